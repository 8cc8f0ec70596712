// The seat map: an SVG of the event's sections, rows and seats coloured by grade (available) or
// status (held, sold), kept current from the seat stream (docs/api.md "seats/stream").
import { api, stream } from './api.js';
import { t, money } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const GRADE_COLOURS = ['#7c3aed', '#2563eb', '#0891b2', '#16a34a', '#ca8a04', '#ea580c', '#db2777'];
const SEAT = 22;
const GAP = 4;

// Applies one `seats` event to a map {version, seats: Map(id → status), zones: Map(name → n)}.
// Returns 'applied', 'skipped' (already seen) or 'gap' (the map must be re-read).
export function applySeatEvent(map, event) {
    if (event.version <= map.version) return 'skipped';
    if (event.from > map.version) return 'gap';
    for (const c of event.changes || []) map.seats.set(c.id, c.status);
    for (const z of event.zones || []) map.zones.set(z.zone, z.available);
    map.version = event.version;
    return 'applied';
}

function el(name, attrs = {}, parent = null) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
}

export function gradeColour(grades, grade) {
    const i = grades.findIndex((g) => g.name === grade);
    return GRADE_COLOURS[(i < 0 ? 0 : i) % GRADE_COLOURS.length];
}

// Opens the live seat map of `event` inside `host`. `options.selectable()` says whether seats
// may be picked now, `options.max` how many, `options.onSelect(ids)` hears the selection.
// Returns {close(), selected(), reload()}.
export async function liveSeatMap(host, event, options) {
    const map = { version: 0, seats: new Map(), zones: new Map(), layout: null };
    const selected = new Set();
    const nodes = new Map();
    let feed = null;

    async function read() {
        const body = await api.get(`/events/${event.id}/seats`, { anonymous: true });
        map.layout = body;
        map.version = body.version;
        map.seats.clear();
        map.zones.clear();
        for (const s of body.sections || []) for (const r of s.rows) for (const seat of r.seats) map.seats.set(seat.id, seat.status);
        for (const z of body.zones || []) map.zones.set(z.name, z.available);
        draw();
    }

    function paint(id) {
        const node = nodes.get(id);
        if (!node) return;
        const status = map.seats.get(id);
        if (status !== 'AVAILABLE') selected.delete(id);
        const picked = selected.has(id);
        node.dataset.status = picked ? 'SELECTED' : status;
        node.setAttribute('fill', status === 'AVAILABLE' ? node.dataset.colour : status === 'HELD' ? '#f59e0b' : '#9ca3af');
        node.setAttribute('aria-checked', String(picked));
        node.setAttribute('aria-disabled', String(status !== 'AVAILABLE'));
        node.classList.toggle('picked', picked);
        node.querySelector('title').textContent = `${id} · ${node.dataset.grade} ${money(Number(node.dataset.price))} · ${t(picked ? 'selected' : status)}`;
    }

    function toggle(id) {
        if (map.seats.get(id) !== 'AVAILABLE' || !options.selectable()) return;
        if (selected.has(id)) selected.delete(id);
        else if (selected.size < options.max) selected.add(id);
        paint(id);
        options.onSelect([...selected]);
    }

    function drawReserved(svg, sections) {
        let y = 30;
        let width = 0;
        for (const section of sections) {
            const colour = gradeColour(event.grades || [], section.grade);
            el('text', { x: 0, y: y - 8, class: 'section-label' }, svg).textContent = `${section.name} · ${section.grade} · ${money(section.price)}`;
            for (const row of section.rows) {
                // A row may sell in another grade than its section (it then says so, with its price).
                const grade = row.grade ?? section.grade;
                const price = row.price ?? section.price;
                const rowColour = row.grade ? gradeColour(event.grades || [], row.grade) : colour;
                el('text', { x: 0, y: y + SEAT * 0.7, class: 'row-label' }, svg).textContent = row.row;
                let rowEnd = 0;
                row.seats.forEach((seat, i) => {
                    const x = 28 + i * (SEAT + GAP);
                    rowEnd = x + SEAT;
                    const rect = el('rect', { x, y, width: SEAT, height: SEAT, rx: 5, class: 'seat', role: 'checkbox', tabindex: 0, 'data-seat': seat.id }, svg);
                    rect.dataset.colour = rowColour;
                    rect.dataset.grade = grade;
                    rect.dataset.price = String(price);
                    el('title', {}, rect);
                    rect.addEventListener('click', () => toggle(seat.id));
                    rect.addEventListener('keydown', (e) => {
                        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(seat.id); }
                    });
                    nodes.set(seat.id, rect);
                    paint(seat.id);
                    width = Math.max(width, x + SEAT);
                });
                if (row.grade) {
                    el('text', { x: rowEnd + 8, y: y + SEAT * 0.7, class: 'row-label' }, svg).textContent = `${row.grade} · ${money(row.price)}`;
                    width = Math.max(width, rowEnd + 8 + 110);
                }
                y += SEAT + GAP;
            }
            y += 34;
        }
        svg.setAttribute('viewBox', `0 0 ${Math.max(width, 200) + 4} ${y - 20}`);
        // Never drawn bigger than 1.3 times its natural size: seats the size of buttons, not tiles.
        svg.style.maxWidth = `${Math.round((Math.max(width, 200) + 4) * 1.3)}px`;
    }

    function drawZones(box, zones) {
        const list = document.createElement('ul');
        list.className = 'zones';
        for (const z of zones) {
            const li = document.createElement('li');
            li.dataset.zone = z.name;
            li.innerHTML = `<span class="swatch" style="background:${gradeColour(event.grades || [], z.grade)}"></span>
                <strong></strong> <span class="grade"></span> · ${money(z.price)} · <output></output>`;
            li.querySelector('strong').textContent = z.name;
            li.querySelector('.grade').textContent = z.grade;
            list.appendChild(li);
        }
        box.appendChild(list);
        paintZones();
    }

    function paintZones() {
        for (const li of host.querySelectorAll('.zones li')) {
            li.querySelector('output').textContent = `${map.zones.get(li.dataset.zone) ?? 0} ${t('left')}`;
        }
    }

    function draw() {
        host.replaceChildren();
        nodes.clear();
        if (map.layout.seating === 'GENERAL') return drawZones(host, map.layout.zones);
        const svg = el('svg', { class: 'seatmap', role: 'group', 'aria-label': t('seatMap') });
        host.appendChild(svg);
        drawReserved(svg, map.layout.sections);
        const legend = document.createElement('p');
        legend.className = 'legend';
        legend.innerHTML = `<span class="swatch" style="background:#2563eb"></span>${t('AVAILABLE')}
            <span class="swatch held"></span>${t('HELD')} <span class="swatch sold"></span>${t('SOLD')}
            <span class="swatch picked"></span>${t('selected')}`;
        host.appendChild(legend);
    }

    await read();
    let reading = null;
    const reread = () => { reading ??= read().finally(() => { reading = null; }); return reading; };
    feed = stream(() => `/events/${event.id}/seats/stream?since=${map.version}`, {
        seats: async (data) => {
            if (reading) await reading;
            const outcome = applySeatEvent(map, data);
            if (outcome === 'gap') return reread();
            if (outcome !== 'applied') return;
            for (const c of data.changes || []) paint(c.id);
            if (data.zones) paintZones();
        },
        reset: () => reread(),
    });
    return {
        close: () => feed.close(),
        selected: () => [...selected],
        clear: () => { const ids = [...selected]; selected.clear(); ids.forEach(paint); options.onSelect([]); },
    };
}
