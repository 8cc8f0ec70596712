// A small line chart in SVG, drawn by hand: a few series of numbers over time (the dashboard's
// sold and held), the y axis from 0 to the largest value seen, the newest sample on the right.
const SVG = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 180;
const PAD = { left: 40, right: 10, top: 10, bottom: 22 };

function el(name, attrs = {}, parent = null) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
}

// A "nice" ceiling for the axis: 1, 2 or 5 times a power of ten, at least `max`.
export function niceCeiling(max) {
    if (max <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(max));
    for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
    return 10 * p;
}

// The polyline points of `values` (one per sample, oldest first), spread over a window of
// `slots` samples from the left edge.
export function points(values, slots, ceiling) {
    const dx = (W - PAD.left - PAD.right) / Math.max(slots - 1, 1);
    const h = H - PAD.top - PAD.bottom;
    return values.map((v, i) => `${(PAD.left + i * dx).toFixed(1)},${(PAD.top + h - (v / ceiling) * h).toFixed(1)}`).join(' ');
}

// series: [{key, label, colour}]. Returns {node, push(sample)} where sample maps key → number.
// The first `minSlots` samples fill the width from the left; after `slots` the oldest scrolls off.
export function lineChart(series, { label, slots = 90, minSlots = 30 } = {}) {
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label });
    const title = el('title', {}, svg);
    title.textContent = label;
    const grid = el('g', { class: 'grid' }, svg);
    const lines = series.map((s) => el('polyline', { fill: 'none', stroke: s.colour, 'stroke-width': 2.5, 'data-series': s.key }, svg));
    // The newest value of each series as a dot, so that even one sample shows.
    const dots = series.map((s) => el('circle', { r: 4, fill: s.colour, visibility: 'hidden' }, svg));
    const samples = [];

    function draw() {
        const ceiling = niceCeiling(Math.max(0, ...samples.flatMap((s) => series.map((x) => s[x.key] ?? 0))));
        grid.replaceChildren();
        for (const f of [0, 0.5, 1]) {
            const y = PAD.top + (H - PAD.top - PAD.bottom) * (1 - f);
            el('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, stroke: '#e5e7eb' }, grid);
            el('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, grid).textContent =
                (ceiling * f).toLocaleString(undefined, { maximumFractionDigits: 1 });
        }
        const span = Math.max(samples.length, minSlots);
        series.forEach((s, i) => {
            const pts = points(samples.map((x) => x[s.key] ?? 0), span, ceiling);
            lines[i].setAttribute('points', pts);
            const last = pts.split(' ').pop();
            if (!last) return;
            const [cx, cy] = last.split(',');
            dots[i].setAttribute('cx', cx);
            dots[i].setAttribute('cy', cy);
            dots[i].setAttribute('visibility', 'visible');
        });
    }

    draw();
    return {
        node: svg,
        push(sample) {
            samples.push(sample);
            if (samples.length > slots) samples.shift();
            draw();
        },
    };
}
