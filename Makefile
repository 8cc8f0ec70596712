# Thin wrappers over scripts/ and the CMake presets. `make run` and `make test` are the two
# commands a new machine needs (README.md); both install what is missing first.
.PHONY: run test bench fmt lint bootstrap build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build --preset release --target ticketon

run: build
	@./build/release/src/ticketon serve $(ARGS)

test: bootstrap
	@scripts/test

bench: build
	@scripts/bootstrap --bench
	@bench/run

fmt:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format-16 -i

# clang-tidy 16: clang 14 cannot parse libstdc++ 12's std::expected (docs/architecture.md).
TIDY_ARGS = --quiet --extra-arg=-std=c++2b --extra-arg=-Wno-unknown-warning-option \
	--extra-arg=-Wno-builtin-macro-redefined --extra-arg=-U__cpp_concepts --extra-arg=-D__cpp_concepts=202002L
lint: bootstrap
	@scripts/check-format
	@cmake --preset dev >/dev/null
	@git ls-files 'src/*.cpp' | xargs -P2 -n4 clang-tidy-16 -p build/dev $(TIDY_ARGS)
