// prodsearch search page: plain JavaScript, talking only to this server's own API.
"use strict";
(() => {
  const PAGE_SIZE = 24;
  const DEBOUNCE_MS = 250;
  const FACET_LIMIT = 8;
  // Facet order and labels come from GET /facets (`order`, `labels`); this is the fallback for an older server.
  const FACETS = [["gender", "Gender"], ["category", "Category"], ["colour", "Colour"], ["brand", "Brand"]];
  const FIXED = new Set(["brand", "category", "price"]); // every other facet name is an attribute

  const state = {
    q: "", page: 0, mode: "text", photo: null, photoUrl: null, similar: null, why: false, depth: 1000,
    filters: { brand: [], category: [], attrs: {}, price_min: null, price_max: null }, // attrs: name -> values
    categoryLevel: {}, expanded: new Set(), errors: {}, facets: null,
    signalInfo: {}, // name -> GET /signals entry (description, queries, weight): the server's registry
    lastData: null,
  };
  const $ = (id) => document.getElementById(id);
  let searchCtl = null, facetCtl = null, typingTimer = null, priceTimer = null;

  // -- small helpers ------------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const lower = (s) => String(s).toLowerCase();
  const num = (x, digits = 3) => (Math.round(x * 10 ** digits) / 10 ** digits).toString();

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(amount);
    } catch (_) {
      return `${amount.toFixed(2)} ${currency || ""}`.trim();
    }
  }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function getJSON(url, init = {}) {
    const res = await fetch(url, { headers: { Accept: "application/json" }, ...init });
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) {
      let detail = body && body.detail;
      if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
      throw new ApiError(res.status, `${detail || res.statusText || "request failed"} (HTTP ${res.status})`);
    }
    return body;
  }

  function setError(key, message) {
    if (message) state.errors[key] = message; else delete state.errors[key];
    const unique = [...new Set(Object.values(state.errors))];
    $("error").hidden = unique.length === 0;
    $("error").replaceChildren(...unique.map((m) => el("p", { text: `The search service said: ${m}` })));
  }

  // -- request parameters -------------------------------------------------------------------
  function appendFilters(params) {
    const f = state.filters;
    f.brand.forEach((v) => params.append("brand", v));
    f.category.forEach((v) => params.append("category", v));
    for (const [name, values] of Object.entries(f.attrs)) values.forEach((v) => params.append("attr", `${name}:${v}`));
    if (f.price_min !== null) params.append("price_min", f.price_min);
    if (f.price_max !== null) params.append("price_max", f.price_max);
    return params;
  }

  function filtersJson() {
    const f = state.filters, out = {}, attributes = {};
    if (f.brand.length) out.brand = f.brand;
    if (f.category.length) out.category = f.category;
    for (const [name, values] of Object.entries(f.attrs)) if (values.length) attributes[name] = values;
    if (Object.keys(attributes).length) out.attributes = attributes;
    if (f.price_min !== null) out.price_min = Number(f.price_min);
    if (f.price_max !== null) out.price_max = Number(f.price_max);
    return Object.keys(out).length ? JSON.stringify(out) : null;
  }

  // -- searching ----------------------------------------------------------------------------
  function refresh({ keepPage = false } = {}) {
    if (!keepPage) state.page = 0;
    history.replaceState(null, "", state.q ? `?q=${encodeURIComponent(state.q)}` : location.pathname);
    runSearch();
    runFacets();
  }

  async function runSearch() {
    if (searchCtl) searchCtl.abort();
    const ctl = (searchCtl = new AbortController());
    const offset = state.page * PAGE_SIZE;
    let pending;
    if (state.mode === "photo") {
      const form = new FormData();
      form.append("file", state.photo);
      if (state.q) form.append("text", state.q);
      form.append("k", PAGE_SIZE);
      form.append("offset", offset);
      const filters = filtersJson();
      if (filters) form.append("filters", filters);
      pending = getJSON("/search/image", { method: "POST", body: form, signal: ctl.signal });
    } else if (state.mode === "similar") {
      const params = appendFilters(new URLSearchParams({ k: PAGE_SIZE, offset }));
      pending = getJSON(`/products/${encodeURIComponent(state.similar.id)}/similar?${params}`, { signal: ctl.signal });
    } else if (state.q) {
      const params = appendFilters(new URLSearchParams({ q: state.q, k: PAGE_SIZE, offset }));
      pending = getJSON(`/search?${params}`, { signal: ctl.signal });
    } else {
      setError("search", null);
      renderResults(null);
      return;
    }
    $("grid").setAttribute("aria-busy", "true");
    try {
      const data = await pending;
      if (ctl !== searchCtl) return;
      setError("search", null);
      renderResults(data);
    } catch (err) {
      if (err.name === "AbortError" || ctl !== searchCtl) return;
      setError("search", err.message);
      renderResults(null, "No results: the search failed.");
    } finally {
      if (ctl === searchCtl) $("grid").removeAttribute("aria-busy");
    }
  }

  async function runFacets() {
    if (facetCtl) facetCtl.abort();
    const ctl = (facetCtl = new AbortController());
    const params = new URLSearchParams();
    let note = "";
    if (state.mode === "similar") params.set("product_id", state.similar.id);
    else if (state.mode === "photo") note = "Counts cover the whole catalog (narrowed by your filters), not just this photo's matches.";
    else if (state.q) params.set("q", state.q);
    appendFilters(params);
    $("facet-note").textContent = note;
    $("facet-note").hidden = !note;
    try {
      const data = await getJSON(`/facets?${params}`, { signal: ctl.signal });
      if (ctl !== facetCtl) return;
      setError("facets", null);
      state.depth = data.candidate_depth;
      state.facets = data;
      renderFacets(data);
    } catch (err) {
      if (err.name === "AbortError" || ctl !== facetCtl) return;
      setError("facets", err.message);
    }
  }

  // -- results ------------------------------------------------------------------------------
  function describe() {
    if (state.mode === "similar") return `like \u201c${state.similar.title}\u201d`;
    if (state.mode === "photo") return state.q ? `like your photo, with \u201c${state.q}\u201d` : "like your photo";
    return `for \u201c${state.q}\u201d`;
  }

  function renderResults(data, emptyText) {
    state.lastData = data || null;
    const grid = $("grid");
    grid.replaceChildren();
    $("timings").replaceChildren();
    if (!data) {
      $("pager").hidden = true;
      $("status").textContent = emptyText || "Type to search, or search by photo.";
      return;
    }
    // `total` estimates the products that really match; `pageable` is how far the ranking goes (older
    // servers: total), and the pages follow it, so less relevant products stay reachable
    const total = Math.min(data.pageable || data.total, state.depth);
    const first = data.offset + 1, last = data.offset + data.hits.length;
    $("status").textContent = !data.hits.length ? `No products ${describe()} match. Try removing a filter.`
      : data.total >= last ? `Results ${first}\u2013${last} of ${data.total} ${describe()}`
        : `Results ${first}\u2013${last} ${describe()} (${data.total} match everything it names)`;
    data.hits.forEach((hit, i) => grid.append(card(hit, data.offset + i + 1, data.signals)));
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    $("pager").hidden = pages <= 1;
    $("page-info").textContent = `Page ${state.page + 1} of ${pages}`;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page + 1 >= pages;
    renderTimings(data);
    renderUnderstood(data.understood || {}, data.searched, data.price_from_text, data.excluded_from_text || {});
  }

  // What the engine understood the query to name, each with a one-click "filter by this", and the query it searched
  // when it corrected or rephrased the typed one ("red dres" -> "red dress").
  function renderUnderstood(understood, searched, price, excluded) {
    const box = $("understood");
    const seen = new Set(); // one chip per value: "Dresses" as a category and as an article type is one thing to click
    const items = Object.entries(understood).filter(([name, value]) => {
      if (isSelected(name, value) || seen.has(lower(value))) return false;
      seen.add(lower(value));
      return true;
    });
    const ruledSeen = new Set(); // "not sports shoes" rules out a category and an article type alike: said once
    const ruledOut = Object.entries(excluded)
      .map(([name, values]) => [name, values.filter((v) => !ruledSeen.has(lower(v)) && ruledSeen.add(lower(v)))])
      .filter(([, values]) => values.length).map(([name, values]) => `${label(name)}: ${values.join(", ")}`);
    box.hidden = !(items.length || searched || price || ruledOut.length) || state.mode !== "text";
    const rewritten = searched ? [el("span", { class: "understood-label", text: `Searched for \u201c${searched}\u201d` })] : [];
    // a price the words state ("under 1000") and values they rule out ("not black") are filters the engine applied:
    // said, not chips to click
    const priced = price ? [el("span", { class: "understood-label understood-price",
      text: `Price ${price.min === null ? "" : `from ${num(price.min, 2)} `}${price.max === null ? "" : `up to ${num(price.max, 2)}`} (\u201c${price.words}\u201d)` })] : [];
    const notes = ruledOut.length ? [el("span", { class: "understood-label understood-not", text: `Not: ${ruledOut.join("; ")}` })] : [];
    box.replaceChildren(...(box.hidden ? [] : [...rewritten, ...priced, ...notes, el("span", { class: "understood-label", text: "Understood:" }),
      ...items.map(([name, value]) => el("button", { type: "button", class: "chip understood-chip",
        "data-key": `understood:${name}:${value}`, "aria-label": `Filter by ${label(name)}: ${value}`,
        title: "Filter by this", text: `${label(name)}: ${value} +`, onclick: () => toggleFilter(name, value, true) }))]));
  }

  function label(name) {
    const labels = (state.facets && state.facets.labels) || {};
    if (labels[name]) return labels[name];
    const spaced = name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ");
    return spaced.charAt(0).toUpperCase() + spaced.slice(1).toLowerCase();
  }

  function filterValues(name) {
    const f = state.filters;
    return FIXED.has(name) ? f[name] : (f.attrs[name] || []);
  }

  function isSelected(name, value) {
    return filterValues(name).some((v) => lower(v) === lower(value));
  }

  function card(hit, position, signalNames) {
    const p = hit.product;
    const attrs = p.attributes || {};
    const photo = hit.has_image
      ? el("img", { src: `/products/${encodeURIComponent(p.id)}/image`, alt: p.title, loading: "lazy", width: 240, height: 240,
                    onerror: (e) => e.target.replaceWith(el("span", { class: "no-photo", text: "Photo unavailable" })) })
      : el("span", { class: "no-photo", text: "No photo" });
    const rows = signalNames.map((name) => {
      const s = hit.signals[name];
      const info = state.signalInfo[name];
      return el("tr", {}, el("th", { scope: "row", text: name, title: info ? info.description : null }),
        el("td", { text: s ? `#${s.rank}` : "\u2014" }),
        el("td", { text: s ? num(s.score) : "\u2014" }));
    });
    const why = el("div", { class: "why" },
      el("p", { text: `#${position} overall \u00b7 fused score ${num(hit.score, 4)}` }),
      el("table", {}, el("caption", { class: "visually-hidden", text: `Signals for ${p.title}` }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Signal" }), el("th", { scope: "col", text: "Rank" }),
          el("th", { scope: "col", text: "Score" }))),
        el("tbody", {}, rows)));
    return el("li", { class: "card", "data-id": p.id, "data-brand": p.brand, "data-colour": attrs.colour || "",
                      "data-gender": attrs.gender || "", "data-category": (p.category || []).join("|") },
      el("div", { class: "thumb" }, photo),
      el("h3", { class: "title", text: p.title }),
      el("p", { class: "meta" }, el("span", { class: "card-brand", text: p.brand }),
        el("span", { class: "price", text: money(p.price, p.currency) })),
      el("button", { type: "button", class: "more", "aria-label": `More like this: ${p.title}`, text: "More like this",
                     onclick: () => showSimilar(p) }),
      why);
  }

  function renderTimings(data) {
    const items = Object.entries(data.timings_ms).map(([stage, ms]) =>
      el("li", {}, el("span", { text: stage }), el("span", { class: "ms", text: `${ms.toFixed(1)} ms` })));
    $("timings").append(
      el("h2", { text: "Why this rank" }),
      el("p", { text: `Fusion: ${data.fusion}; signals: ${data.signals.join(", ") || "none"}. ` +
        "Each card lists every signal's rank and score for that product (\u2014: the signal did not retrieve it)." }),
      signalList(data.signals),
      el("ul", { class: "stages", "aria-label": "Time per stage" }, items));
  }

  // What each signal of a response does, from GET /signals (the server's signal registry).
  function signalList(names) {
    const known = names.filter((name) => state.signalInfo[name]);
    if (!known.length) return null;
    return el("dl", { class: "signal-list", "aria-label": "What each signal does" },
      known.flatMap((name) => {
        const info = state.signalInfo[name];
        return [el("dt", { text: name }), el("dd", { text: `${info.description} (weight ${num(info.weight)})` })];
      }));
  }

  async function loadSignals() {
    try {
      const data = await getJSON("/signals");
      state.signalInfo = Object.fromEntries(data.signals.map((s) => [s.name, s]));
    } catch (_) {
      state.signalInfo = {}; // the panel then shows names only; searches still work
    }
  }

  // -- facets -------------------------------------------------------------------------------
  function renderFacets(data) {
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    state.categoryLevel = {};
    data.facets.category.forEach((v) => { state.categoryLevel[lower(v.value)] = v.level || 0; });
    const box = $("facets");
    const names = data.order ? data.order.filter((n) => n !== "price") : FACETS.map(([n]) => n);
    const labels = data.labels || Object.fromEntries(FACETS);
    box.replaceChildren(...names.map((name) => facetGroup(name, labels[name] || name, data.facets[name] || [])));
    renderPrice(data.price);
    renderChips();
    if (focused) {
      const again = document.querySelector(`[data-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function visibleCategories(values) {
    const selected = new Set(state.filters.category.map(lower));
    return values.filter((v) => !v.level || v.selected || (v.parent && selected.has(lower(v.parent))));
  }

  function facetGroup(name, label, values) {
    if (name === "category") values = visibleCategories(values);
    const expanded = state.expanded.has(name);
    const shown = expanded ? values : values.filter((v, i) => i < FACET_LIMIT || v.selected);
    const list = el("ul", { class: "facet-values" }, shown.map((v) => {
      const key = `${name}:${v.value}`;
      const box = el("input", { type: "checkbox", checked: v.selected, "data-key": key,
                                onchange: (e) => toggleFilter(name, v.value, e.target.checked) });
      return el("li", { class: v.level ? `level-${Math.min(v.level, 3)}` : null },
        el("label", {}, box, el("span", { class: "value", text: v.value }), el("span", { class: "count", text: v.count })));
    }));
    const more = values.length > FACET_LIMIT
      ? el("button", { type: "button", class: "link-button", "aria-expanded": expanded ? "true" : "false",
                       "data-key": `more:${name}`, text: expanded ? "Show fewer" : `Show all ${values.length}`,
                       onclick: () => { expanded ? state.expanded.delete(name) : state.expanded.add(name); renderFacets(state.facets); } })
      : null;
    const empty = values.length ? null : el("p", { class: "hint", text: "No values here." });
    return el("fieldset", { class: "facet", "data-facet": name }, el("legend", { text: label }), list, empty, more);
  }

  function toggleFilter(name, value, on) {
    const f = state.filters;
    if (name === "category") {
      const level = state.categoryLevel[lower(value)] || 0;
      const levelOf = (c) => state.categoryLevel[lower(c)] || 0;
      f.category = on ? f.category.filter((c) => levelOf(c) < level).concat([value])
        : f.category.filter((c) => lower(c) !== lower(value) && levelOf(c) <= level);
    } else if (name === "brand") {
      f.brand = on ? f.brand.concat([value]) : f.brand.filter((v) => lower(v) !== lower(value));
    } else {
      const values = f.attrs[name] || [];
      f.attrs[name] = on ? values.concat([value]) : values.filter((v) => lower(v) !== lower(value));
      if (!f.attrs[name].length) delete f.attrs[name];
    }
    refresh();
  }

  function renderPrice(price) {
    $("price-min").placeholder = price.min === null ? "" : Math.floor(price.min);
    $("price-max").placeholder = price.max === null ? "" : Math.ceil(price.max);
    const most = Math.max(1, ...price.buckets.map((b) => b.count));
    $("price-histogram").replaceChildren(...price.buckets.map((b) => el("li", {},
      el("button", { type: "button", class: "bar", "data-key": `price:${b.min}`,
                     title: `${num(b.min, 2)}\u2013${num(b.max, 2)}: ${b.count}`,
                     "aria-label": `Price ${num(b.min, 2)} to ${num(b.max, 2)}: ${b.count} products`,
                     onclick: () => setPrice(b.min, b.max) },
        el("span", { class: "fill", "data-height": Math.round((100 * b.count) / most) })))));
    // heights set through CSSOM (allowed by the page's style-src 'self' policy, unlike inline style attributes)
    document.querySelectorAll("#price-histogram .fill").forEach((f) => { f.style.height = `${f.dataset.height}%`; });
  }

  function setPrice(min, max) {
    $("price-min").value = num(min, 2);
    $("price-max").value = num(max, 2);
    readPrice();
  }

  function readPrice() {
    const read = (id) => ($(id).value.trim() === "" ? null : $(id).value.trim());
    state.filters.price_min = read("price-min");
    state.filters.price_max = read("price-max");
    refresh();
  }

  function renderChips() {
    const f = state.filters, chips = [];
    for (const name of ["brand", "category", ...Object.keys(f.attrs)]) {
      filterValues(name).forEach((v) => chips.push(el("button", { type: "button", class: "chip", "data-key": `chip:${name}:${v}`,
        "aria-label": `Remove filter ${label(name)}: ${v}`, text: `${label(name)}: ${v} \u00d7`,
        onclick: () => toggleFilter(name, v, false) })));
    }
    if (f.price_min !== null || f.price_max !== null) {
      chips.push(el("button", { type: "button", class: "chip", "aria-label": "Remove the price filter",
        text: `Price: ${f.price_min ?? "0"}\u2013${f.price_max ?? "any"} \u00d7`,
        onclick: () => { $("price-min").value = ""; $("price-max").value = ""; readPrice(); } }));
    }
    $("active-filters").replaceChildren(...chips);
  }

  // -- modes: text, photo, more like this ---------------------------------------------------
  function setPhoto(file) {
    if (!file) return;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photo = file;
    state.photoUrl = URL.createObjectURL(file);
    state.mode = "photo";
    state.similar = null;
    $("photo-thumb").src = state.photoUrl;
    $("photo-name").textContent = file.name || "pasted photo";
    $("photo-preview").hidden = false;
    $("mode-banner").hidden = true;
    refresh();
  }

  function clearPhoto() {
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    Object.assign(state, { photo: null, photoUrl: null, mode: state.mode === "photo" ? "text" : state.mode });
    $("photo-input").value = "";
    $("photo-preview").hidden = true;
    $("photo-thumb").removeAttribute("src");
    refresh();
    $("photo-input").focus();
  }

  function showSimilar(product) {
    state.mode = "similar";
    state.similar = { id: product.id, title: product.title };
    $("mode-text").textContent = `More like \u201c${product.title}\u201d`;
    $("mode-exit").textContent = state.photo ? "Back to photo search" : "Back to text search";
    $("mode-banner").hidden = false;
    refresh();
    window.scrollTo({ top: 0 });
    $("results").focus({ preventScroll: true });
  }

  function leaveSimilar() {
    if (state.mode !== "similar") return;
    state.mode = state.photo ? "photo" : "text";
    state.similar = null;
    $("mode-banner").hidden = true;
  }

  function exitSimilar() {
    leaveSimilar();
    refresh();
    $("q").focus();
  }

  // -- wiring -------------------------------------------------------------------------------
  function init() {
    const q = $("q");
    q.value = new URLSearchParams(location.search).get("q") || "";
    state.q = q.value.trim();
    q.addEventListener("input", () => {
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        const text = q.value.trim();
        if (text === state.q && state.mode !== "similar") return;
        state.q = text;
        leaveSimilar();
        refresh();
      }, DEBOUNCE_MS);
    });
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      clearTimeout(typingTimer);
      state.q = q.value.trim();
      leaveSimilar();
      refresh();
    });
    for (const id of ["price-min", "price-max"]) {
      $(id).addEventListener("input", () => { clearTimeout(priceTimer); priceTimer = setTimeout(readPrice, DEBOUNCE_MS * 2); });
      $(id).addEventListener("change", () => { clearTimeout(priceTimer); readPrice(); });
    }
    $("clear-filters").addEventListener("click", () => {
      Object.assign(state.filters, { brand: [], category: [], attrs: {}, price_min: null, price_max: null });
      $("price-min").value = "";
      $("price-max").value = "";
      refresh();
    });
    $("why-toggle").addEventListener("change", (e) => {
      state.why = e.target.checked;
      $("grid").classList.toggle("show-why", state.why);
      $("timings").hidden = !state.why;
    });
    $("prev").addEventListener("click", () => { state.page = Math.max(0, state.page - 1); runSearch(); $("results").focus(); });
    $("next").addEventListener("click", () => { state.page += 1; runSearch(); $("results").focus(); });
    $("mode-exit").addEventListener("click", exitSimilar);
    $("filters-toggle").addEventListener("click", (e) => {
      const open = $("filters").classList.toggle("collapsed") === false;
      e.target.setAttribute("aria-expanded", String(open));
      e.target.textContent = open ? "Hide filters" : "Show filters";
    });
    $("photo-input").addEventListener("change", (e) => setPhoto(e.target.files[0]));
    $("photo-clear").addEventListener("click", clearPhoto);
    const zone = $("drop-zone");
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("dragging"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      if (e.dataTransfer && e.dataTransfer.files.length) setPhoto(e.dataTransfer.files[0]);
    });
    document.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData ? e.clipboardData.files : [])].find((f) => f.type.startsWith("image/"));
      if (file) setPhoto(file);
    });
    refresh();
    loadSignals().then(() => { if (state.lastData) renderResults(state.lastData); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
