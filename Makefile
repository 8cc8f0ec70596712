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
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

lint: bootstrap
	@cmake --preset dev >/dev/null
	@git ls-files 'src/*.cpp' | xargs -P2 -n4 clang-tidy -p build/dev --quiet
