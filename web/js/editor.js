// The layout editor of the new-event form: grades with prices, then either reserved sections
// (a grade, a number of rows, seats per row, and optionally its first rows in another grade)
// or general-admission zones (a grade, a capacity).
// It builds the `seating`, `grades`, `sections` | `zones` of POST /events (docs/api.md).
import { h } from './dom.js';
import { t, money } from './i18n.js';
import { gradeColour } from './seatmap.js';

const SVG = 'http://www.w3.org/2000/svg';

// A small picture of the sections as they stand: one square per seat in its grade's colour (the
// seat map's colours), so a manager sees the shape of the hall before creating it.
function drawPreview(svg, sections, grades) {
    const size = 8;
    const gap = 2;
    let y = 0;
    let width = 0;
    svg.replaceChildren();
    for (const s of sections) {
        const label = document.createElementNS(SVG, 'text');
        label.setAttribute('x', 0);
        label.setAttribute('y', y + 10);
        label.setAttribute('class', 'preview-label');
        label.textContent = `${s.name} · ${s.grade}`;
        svg.append(label);
        y += 16;
        // Drawn up to 40 rows of 100 seats: enough to see the shape of a bigger hall.
        for (const row of s.rows.slice(0, 40)) {
            const colour = gradeColour(grades, row.grade ?? s.grade);
            for (let i = 0; i < Math.min(row.seats, 100); i++) {
                const r = document.createElementNS(SVG, 'rect');
                for (const [k, v] of Object.entries({ x: i * (size + gap), y, width: size, height: size, rx: 2, fill: colour })) r.setAttribute(k, v);
                svg.append(r);
            }
            width = Math.max(width, Math.min(row.seats, 100) * (size + gap));
            y += size + gap;
        }
        y += 8;
    }
    svg.setAttribute('viewBox', `0 0 ${Math.max(width, 100)} ${Math.max(y, 10)}`);
    svg.style.maxWidth = `${Math.max(width, 100) * 2}px`;
}

// A list of fieldsets, one per item, with an add button and a remove button on each.
function repeater(legend, makeItem, onChange, first) {
    const list = h('div', { class: 'repeater' });
    const items = [];
    const relabel = () => items.forEach((it, i) => { it.legend.textContent = `${legend} ${i + 1}`; it.remove.disabled = items.length === 1; });
    const add = (init = {}) => {
        const item = makeItem(init);
        item.legend = h('legend', {});
        item.remove = h('button', { type: 'button', class: 'link' }, t('remove'));
        item.node = h('fieldset', { class: 'item' }, item.legend, item.fields, item.remove);
        item.remove.addEventListener('click', () => {
            items.splice(items.indexOf(item), 1);
            item.node.remove();
            relabel();
            onChange();
            addButton.focus(); // the removed button took the focus with it
        });
        items.push(item);
        list.append(item.node);
        relabel();
        onChange();
        return item;
    };
    const addButton = h('button', { type: 'button' }, t('addItem', { what: legend }));
    addButton.addEventListener('click', () => add().fields.querySelector('input')?.focus());
    for (const init of first) add(init);
    return { node: h('div', {}, list, addButton), items };
}

const input = (label, attrs) => {
    const node = h('input', { required: true, ...attrs });
    return { node, label: h('label', {}, label, node) };
};

export function layoutEditor() {
    const summary = h('p', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'capacity' });
    const preview = document.createElementNS(SVG, 'svg');
    preview.setAttribute('class', 'layout-preview');
    preview.setAttribute('role', 'img');
    preview.setAttribute('aria-label', t('layoutPreview'));
    const gradeOptions = new Set();
    let ready = false;
    const update = () => {
        if (!ready) return;
        const names = grades.items.map((g) => g.name.node.value.trim()).filter(Boolean);
        for (const select of gradeOptions) {
            const keep = select.value || select.dataset.init;
            select.replaceChildren(...names.map((n) => h('option', { value: n, selected: n === keep }, n)));
        }
        // No more front rows than rows: the browser's form check says so.
        for (const s of sections.items) s.front.node.max = String(Math.max(Number(s.rows.node.value) || 0, 0));
        summary.textContent = `${t('capacitySummary', { n: capacity() })} · ${priceRange()}`;
        const layout = value();
        preview.hidden = layout.seating !== 'RESERVED';
        if (!preview.hidden) drawPreview(preview, layout.sections, layout.grades);
    };
    const gradeSelect = (init, label = t('grade')) => {
        const node = h('select', { required: true, 'data-init': init ?? '' });
        gradeOptions.add(node);
        return { node, label: h('label', {}, label, node) };
    };

    const grades = repeater(t('gradeItem'), (init) => {
        const name = input(t('name'), { value: init.name ?? '', maxlength: 32 });
        const price = input(t('priceWon'), { type: 'number', min: 0, step: 100, value: init.price ?? 50000 });
        return { name, price, fields: h('div', { class: 'fields' }, name.label, price.label) };
    }, () => update(), [{ name: 'VIP', price: 150000 }, { name: 'R', price: 99000 }]);

    const sections = repeater(t('sectionItem'), (init) => {
        const name = input(t('name'), { value: init.name ?? '', maxlength: 8, pattern: '[A-Za-z0-9]{1,8}' });
        const grade = gradeSelect(init.grade);
        const rows = input(t('rowCount'), { type: 'number', min: 1, max: 100, value: init.rows ?? 2 });
        const seats = input(t('seatsPerRow'), { type: 'number', min: 1, max: 500, value: init.seats ?? 10 });
        // Its first rows may sell in another grade (front rows dearer, say): 0 = none.
        const front = input(t('frontRows'), { type: 'number', min: 0, max: 100, value: init.front ?? 0 });
        const frontGrade = gradeSelect(init.frontGrade, t('frontRowsGrade'));
        return { name, grade, rows, seats, front, frontGrade,
            fields: h('div', { class: 'fields' }, name.label, grade.label, rows.label, seats.label, front.label, frontGrade.label) };
    }, () => update(), [{ name: 'A', grade: 'VIP', rows: 2, seats: 10 }]);

    const zones = repeater(t('zoneItem'), (init) => {
        const name = input(t('name'), { value: init.name ?? '', maxlength: 32 });
        const grade = gradeSelect(init.grade);
        const cap = input(t('zoneCapacity'), { type: 'number', min: 1, max: 100000, value: init.capacity ?? 500 });
        return { name, grade, capacity: cap, fields: h('div', { class: 'fields' }, name.label, grade.label, cap.label) };
    }, () => update(), [{ name: 'Floor', grade: 'R', capacity: 500 }]);

    const seating = h('select', { id: 'f-seating' },
        h('option', { value: 'RESERVED' }, t('RESERVED')), h('option', { value: 'GENERAL' }, t('GENERAL')));
    const sectionBox = h('div', {}, h('h3', {}, t('sections')), sections.node);
    const zoneBox = h('div', { hidden: true }, h('h3', {}, t('zones')), zones.node);
    seating.addEventListener('change', () => {
        sectionBox.hidden = seating.value !== 'RESERVED';
        zoneBox.hidden = seating.value === 'RESERVED';
        update();
    });

    function capacity() {
        if (seating.value === 'GENERAL') return zones.items.reduce((n, z) => n + (Number(z.capacity.node.value) || 0), 0);
        return sections.items.reduce((n, s) => n + (Number(s.rows.node.value) || 0) * (Number(s.seats.node.value) || 0), 0);
    }

    function value() {
        const body = {
            seating: seating.value,
            grades: grades.items.map((g) => ({ name: g.name.node.value.trim(), price: Number(g.price.node.value) })),
        };
        if (seating.value === 'GENERAL') {
            body.zones = zones.items.map((z) => ({ name: z.name.node.value.trim(), grade: z.grade.node.value, capacity: Number(z.capacity.node.value) }));
        } else {
            body.sections = sections.items.map((s) => {
                const grade = s.grade.node.value;
                const rowCount = Math.min(Number(s.rows.node.value) || 0, 10000);
                const front = Math.min(Number(s.front.node.value) || 0, rowCount);
                const frontGrade = s.frontGrade.node.value;
                return {
                    name: s.name.node.value.trim(),
                    grade,
                    rows: Array.from({ length: rowCount }, (_, i) => ({
                        row: String(i + 1),
                        seats: Number(s.seats.node.value),
                        ...(i < front && frontGrade && frontGrade !== grade ? { grade: frontGrade } : {}),
                    })),
                };
            });
        }
        return body;
    }

    // The lowest and highest price, for the summary line under the editor.
    const priceRange = () => {
        const prices = grades.items.map((g) => Number(g.price.node.value) || 0);
        return prices.length ? `${money(Math.min(...prices))} – ${money(Math.max(...prices))}` : '';
    };
    const node = h('div', { class: 'editor' },
        h('label', { for: 'f-seating' }, t('seating'), seating),
        h('h3', {}, t('grades')), grades.node, sectionBox, zoneBox, summary, preview);
    node.addEventListener('input', update);
    ready = true;
    update();
    return { node, value };
}
