// The map page: offline basemap, live tracks as MIL-STD-2525 symbols, track panel, filters, bases.
// Leaflet (L), milsymbol (ms) and uPlot are vendored classic scripts loaded before this module.
// Every text from the server goes into the page with textContent, never as HTML.

import { postJSON } from "/static/js/api.js";
import { raiseBanner } from "/static/js/banner.js";

const L = window.L;
const ms = window.ms;
const uPlot = window.uPlot;

const config = JSON.parse(document.getElementById("map-config").textContent);
const S = config.strings;

const DIMENSIONS = ["A", "G", "S", "U", "P", "X"]; // air, ground, sea, subsurface, space, other
const STALE_CHECK_MS = 5000;
const RECONCILE_MS = 30000;

/** @type {Map<string, {track: object, marker: object, item: HTMLElement, receivedAt: number}>} */
const tracks = new Map();
const labelViews = new Map(); // original marking -> Promise of the reader's view
let selected = null; // uid
let trail = null; // Leaflet polyline of the selected track's history
let chart = null; // uPlot of the selected track's speed
let chartData = [[], []];
let historyCount = 0;

function text(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (className) el.className = className;
  return el;
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

// ---------------------------------------------------------------------------------------- labels

/** The label as the reader sees it (their language's scheme); one batched request per tick. */
let pendingViews = []; // [label, resolve]
function labelView(label) {
  const key = label.marking;
  if (!labelViews.has(key)) {
    labelViews.set(key, new Promise((resolve) => pendingViews.push([label, resolve])));
    if (pendingViews.length === 1) setTimeout(flushLabelViews, 0);
  }
  return labelViews.get(key);
}

function flushLabelViews() {
  const batch = pendingViews.splice(0, 200);
  if (pendingViews.length) setTimeout(flushLabelViews, 0);
  const fallback = (label) => ({ banner: label.marking, portion: label.portion, level: "", label });
  postJSON(config.labelView, { labels: batch.map(([label]) => label) })
    .then((body) => batch.forEach(([label, resolve], i) => resolve(body.items[i] || fallback(label))))
    .catch(() => batch.forEach(([label, resolve]) => resolve(fallback(label))));
}

/** Colour a marking as the banners are coloured (kyodo.css `.marking[data-level]`). */
function markLevel(el, view) {
  if (view.level) el.dataset.level = view.level;
  if (view.sci) el.dataset.sci = "";
  else delete el.dataset.sci;
}

// ------------------------------------------------------------------------------------------ map

const map = L.map("map", {
  center: config.center,
  zoom: config.zoom,
  minZoom: 3,
  maxZoom: 14,
  worldCopyJump: false,
  keyboard: true,
  zoomControl: false,
  attributionControl: true,
});
L.control.zoom({ zoomInTitle: S.zoomIn, zoomOutTitle: S.zoomOut }).addTo(map);
map.attributionControl.setPrefix(false);
L.control.scale({ imperial: false }).addTo(map);

if (config.tileUrl) {
  L.tileLayer(config.tileUrl, { maxZoom: 18, attribution: S.tileAttribution }).addTo(map);
} else {
  const renderer = L.canvas({ padding: 0.5 });
  fetch(config.basemap)
    .then((r) => r.json())
    .then((geojson) => {
      L.geoJSON(geojson, {
        renderer,
        interactive: false,
        style: { color: "#6b6b5e", weight: 0.8, fillColor: "#ece8dc", fillOpacity: 1 },
      }).addTo(map);
      map.attributionControl.addAttribution(S.basemapAttribution);
      document.getElementById("map").dataset.basemap = "loaded";
    })
    .catch(() => setStatus(S.basemapFailed, "error"));
}

const trackLayer = L.layerGroup().addTo(map);
const baseLayer = L.layerGroup().addTo(map);

// ---------------------------------------------------------------------------------------- bases

function baseIcon(base) {
  const el = document.createElement("span");
  el.className = `kyodo-base kyodo-base-${base.nation.toLowerCase()}`;
  el.textContent = base.nation_short;
  return L.divIcon({ html: el, className: "kyodo-base-icon", iconSize: null });
}

fetch(config.bases, { credentials: "same-origin" })
  .then((r) => (r.ok ? r.json() : []))
  .then((bases) => {
    for (const base of bases) {
      const name = config.locale === "ja" && base.name_ja ? base.name_ja : base.name;
      const marker = L.marker([base.lat, base.lon], {
        icon: baseIcon(base),
        title: name,
        keyboard: false,
        zIndexOffset: -1000,
      });
      const tip = document.createElement("div");
      tip.append(text("strong", name), document.createElement("br"));
      tip.append(text("span", `${base.nation_label} · ${base.services.join(", ")}`));
      marker.bindTooltip(tip, { direction: "top", offset: [0, -8] });
      marker.addTo(baseLayer);
    }
  });

// --------------------------------------------------------------------------------------- tracks

function dimensionOf(track) {
  const atoms = track.type.split("-");
  const dim = atoms.length >= 3 && atoms[0] === "a" ? atoms[2].toUpperCase() : "X";
  return DIMENSIONS.includes(dim) ? dim : "X";
}

function affiliationOf(track) {
  const atoms = track.type.split("-");
  return atoms.length >= 2 && atoms[0] === "a" ? atoms[1].toLowerCase() : "u";
}

function describeType(track) {
  const aff = S.affiliations[affiliationOf(track)] || S.affiliations.u;
  const dim = S.dimensions[dimensionOf(track)];
  return `${aff} · ${dim} (${track.type})`;
}

// Alerts (`b-a-…`: 911, ring the bell, troops in contact; `b-a-o-can` cancels one) and CASEVAC
// requests (`b-r-f-h-c`) are no 2525 units: ATAK shows them with their own symbols, and so does
// the map. Fixed SVG, no text from the server.
const ALERT_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="30" viewBox="0 0 30 30">' +
  '<path d="M15 2 L28 27 L2 27 Z" fill="#d50000" stroke="#fff" stroke-width="2"/>' +
  '<rect x="13.5" y="10" width="3" height="9" fill="#fff"/>' +
  '<rect x="13.5" y="21" width="3" height="3" fill="#fff"/></svg>';
const CANCELLED_ALERT_SVG = ALERT_SVG.replace("#d50000", "#757575");
const CASEVAC_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="30" viewBox="0 0 30 30">' +
  '<circle cx="15" cy="15" r="13" fill="#fff" stroke="#d50000" stroke-width="2"/>' +
  '<rect x="12" y="6" width="6" height="18" fill="#d50000"/>' +
  '<rect x="6" y="12" width="18" height="6" fill="#d50000"/></svg>';

function specialSymbol(track) {
  if (track.kind === "casevac") return { svg: CASEVAC_SVG, name: "casevac" };
  if (track.kind !== "alert") return null;
  const cancelled = track.type === "b-a-o-can";
  return { svg: cancelled ? CANCELLED_ALERT_SVG : ALERT_SVG, name: cancelled ? "alert-cancelled" : "alert" };
}

function symbolIcon(track) {
  const el = document.createElement("div");
  el.className = "kyodo-track";
  el.dataset.uid = track.uid;
  el.dataset.lat = String(track.lat);
  el.dataset.lon = String(track.lon);
  const special = specialSymbol(track);
  if (special) {
    el.classList.add(`kyodo-${special.name}`);
    el.dataset.kind = track.kind;
    el.innerHTML = special.svg; // a fixed drawing of this file
    return L.divIcon({ html: el, className: "kyodo-track-icon", iconSize: [30, 30], iconAnchor: [15, 15] });
  }
  const symbol = new ms.Symbol(track.sidc, { size: 26, simpleStatusModifier: true });
  const size = symbol.getSize();
  const anchor = symbol.getAnchor();
  el.innerHTML = symbol.asSVG(); // generated by milsymbol from the server's SIDC, no free text
  return L.divIcon({
    html: el,
    className: "kyodo-track-icon",
    iconSize: [size.width, size.height],
    iconAnchor: [anchor.x, anchor.y],
  });
}

function isStale(track) {
  return Date.parse(track.stale) <= Date.now();
}

function visible(track) {
  const feeds = document.querySelectorAll("input[name=feed]");
  const dims = document.querySelectorAll("input[name=dimension]");
  // Tracks of feeds the reader may not list (their names are not shown) go under "Other feeds".
  const feed = track.feed_id in config.feeds ? track.feed_id : "";
  const feedOn = [...feeds].some((i) => i.checked && i.value === feed);
  const dimOn = [...dims].some((i) => i.checked && i.value === dimensionOf(track));
  return feedOn && dimOn;
}

function listItem(uid) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "kyodo-track-button";
  button.dataset.uid = uid;
  button.addEventListener("click", () => select(uid, true));
  li.append(button);
  return li;
}

function renderItem(entry) {
  const { track } = entry;
  const button = entry.item.querySelector("button");
  const portion = text("span", track.label.portion, "marking portion");
  const name = text("span", track.callsign, "callsign");
  button.replaceChildren(portion, document.createTextNode(" "), name);
  button.setAttribute("aria-pressed", String(selected === track.uid));
  labelView(track.label).then((v) => {
    portion.textContent = v.portion;
    markLevel(portion, v);
  });
}

function sortList() {
  const list = document.getElementById("track-list");
  const entries = [...tracks.values()].sort((a, b) =>
    a.track.callsign.localeCompare(b.track.callsign, config.locale),
  );
  list.append(...entries.map((e) => e.item));
}

function updateCount() {
  let shown = 0;
  for (const entry of tracks.values()) if (trackLayer.hasLayer(entry.marker)) shown += 1;
  document.getElementById("track-count").textContent = format(S.tracksShown, {
    shown,
    total: tracks.size,
  });
}

// The list's order and the count are refreshed at most every 50 ms, not once per event (a
// snapshot brings thousands of tracks at once).
let refreshPending = false;
let resortPending = false;
function refreshSoon(resort) {
  resortPending ||= resort;
  if (refreshPending) return;
  refreshPending = true;
  setTimeout(() => {
    if (resortPending) sortList();
    updateCount();
    refreshPending = false;
    resortPending = false;
  }, 50);
}

function symbolMarker(track) {
  const marker = L.marker([track.lat, track.lon], {
    icon: symbolIcon(track),
    title: track.callsign,
    keyboard: false, // the track list is the keyboard's way in; hundreds of tab stops are not
    riseOnHover: true,
  });
  marker.on("click", () => select(track.uid, false));
  return marker;
}

/** Drawings, routes and range & bearing lines have a geometry (GeoJSON, lon-lat) to draw. */
function isShaped(track) {
  const shape = track.geometry?.shape;
  if (track.geometry?.waypoints) return routeLine(track).length >= 2;
  return ["line", "polygon", "circle", "route", "multiline"].includes(shape);
}

// Routes that name waypoints only by uid: the stream's frame (one for every reader) leaves them
// to the map, which places those it has (the waypoints its reader may read).
const routesOf = new Map(); // waypoint uid -> Set of route uids

function routeLine(track) {
  const line = [];
  for (const [uid, at] of track.geometry.waypoints) {
    const known = at || (uid && tracks.get(uid)?.track);
    if (Array.isArray(known)) line.push(known);
    else if (known) line.push([known.lon, known.lat]);
    if (uid && !at) {
      if (!routesOf.has(uid)) routesOf.set(uid, new Set());
      routesOf.get(uid).add(track.uid);
    }
  }
  return line;
}

let redrawing = false; // routes naming each other as waypoints must not redraw for ever

function redrawRoutesThrough(uid) {
  if (redrawing) return;
  redrawing = true;
  try {
    for (const route of routesOf.get(uid) || []) {
      const entry = tracks.get(route);
      if (entry && route !== uid) upsert(entry.track);
    }
  } finally {
    redrawing = false;
  }
}

const SHAPE_COLOURS = { route: "#6a1b9a", range_bearing: "#e65100", alert: "#b00020" };

function shapeLayer(track) {
  const g = track.geometry;
  const latlng = ([lon, lat]) => [lat, lon];
  const style = {
    color: SHAPE_COLOURS[track.kind] || "#1565c0",
    weight: 3,
    fillOpacity: 0.12,
    className: "kyodo-shape",
  };
  let layer;
  if (g.waypoints) {
    layer = L.polyline(routeLine(track).map(latlng), { ...style, fill: false });
  } else if (g.shape === "circle") {
    layer = L.circle(latlng(g.coordinates), { ...style, radius: g.radius });
  } else if (g.shape === "polygon") {
    layer = L.polygon(g.coordinates[0].slice(0, -1).map(latlng), style);
  } else if (g.shape === "multiline") {
    layer = L.polyline(
      g.coordinates.map((stroke) => stroke.map(latlng)),
      { ...style, fill: false },
    );
  } else {
    layer = L.polyline(g.coordinates.map(latlng), { ...style, fill: false });
  }
  layer.bindTooltip(track.callsign);
  layer.on("click", () => select(track.uid, false));
  layer.on("add", () => {
    const el = layer.getElement();
    if (el) {
      el.dataset.uid = track.uid;
      el.dataset.shape = g.waypoints ? "route" : g.shape;
    }
  });
  return layer;
}

function upsert(track) {
  if (isStale(track)) {
    remove(track.uid);
    return;
  }
  raiseBanner(track.label);
  let entry = tracks.get(track.uid);
  const shaped = isShaped(track);
  if (!entry) {
    const marker = shaped ? shapeLayer(track) : symbolMarker(track);
    entry = { track, marker, shaped, item: listItem(track.uid), receivedAt: Date.now() };
    tracks.set(track.uid, entry);
  } else if (shaped || entry.shaped) {
    // A shape is drawn anew at each update (its vertices may all have changed).
    trackLayer.removeLayer(entry.marker);
    entry.marker = shaped ? shapeLayer(track) : symbolMarker(track);
    entry.shaped = shaped;
    entry.track = track;
    entry.receivedAt = Date.now();
  } else {
    const sidcChanged = entry.track.sidc !== track.sidc;
    entry.track = track;
    entry.receivedAt = Date.now();
    entry.marker.setLatLng([track.lat, track.lon]);
    if (sidcChanged) entry.marker.setIcon(symbolIcon(track));
    const el = entry.marker.getElement()?.querySelector(".kyodo-track");
    if (el) {
      el.dataset.lat = String(track.lat);
      el.dataset.lon = String(track.lon);
    }
    entry.marker.options.title = track.callsign;
  }
  const resort = !entry.item.isConnected || entry.item.dataset.callsign !== track.callsign;
  entry.item.dataset.callsign = track.callsign;
  renderItem(entry);
  applyFilter(entry);
  refreshSoon(resort);
  if (selected === track.uid) {
    showPanel(entry.track);
    extendHistory(track);
  }
  if (routesOf.has(track.uid)) redrawRoutesThrough(track.uid);
}

function remove(uid) {
  const entry = tracks.get(uid);
  if (!entry) return;
  trackLayer.removeLayer(entry.marker);
  entry.item.remove();
  tracks.delete(uid);
  if (selected === uid) deselect();
  refreshSoon(false);
  if (routesOf.has(uid)) redrawRoutesThrough(uid); // a waypoint gone: the route without it
}

function applyFilter(entry) {
  const show = visible(entry.track);
  if (show && !trackLayer.hasLayer(entry.marker)) trackLayer.addLayer(entry.marker);
  if (!show && trackLayer.hasLayer(entry.marker)) trackLayer.removeLayer(entry.marker);
  entry.item.hidden = !show;
  if (entry.shaped) {
    entry.marker.setStyle({ weight: selected === entry.track.uid ? 5 : 3 });
    return;
  }
  const el = entry.marker.getElement()?.querySelector(".kyodo-track");
  if (el) el.classList.toggle("selected", selected === entry.track.uid);
}

function applyFilters() {
  for (const entry of tracks.values()) applyFilter(entry);
  if (selected && !trackLayer.hasLayer(tracks.get(selected)?.marker)) deselect();
  updateCount();
}

document.getElementById("map-filters").addEventListener("submit", (event) => event.preventDefault());
document.getElementById("map-filters").addEventListener("change", (event) => {
  if (event.target.name === "bases") {
    if (event.target.checked) baseLayer.addTo(map);
    else baseLayer.remove();
    return;
  }
  applyFilters();
});

setInterval(() => {
  for (const [uid, entry] of tracks) if (isStale(entry.track)) remove(uid);
}, STALE_CHECK_MS);

// -------------------------------------------------------------------------------- track panel

function showPanel(track) {
  const panel = document.getElementById("track-panel");
  panel.hidden = false;
  document.getElementById("panel-callsign").textContent = track.callsign;
  const fields = document.getElementById("panel-fields");
  const rows = [
    [S.type, describeType(track)],
    [S.feed, config.feeds[track.feed_id] || S.otherFeed],
    [S.lastUpdate, new Date(track.time).toLocaleString(config.locale, { timeZoneName: "short" })],
    [S.position, `${track.lat.toFixed(4)}, ${track.lon.toFixed(4)}`],
    [S.speed, track.speed == null ? "—" : `${track.speed.toFixed(1)} m/s`],
    [S.course, track.course == null ? "—" : `${Math.round(track.course)}°`],
    [S.stale, new Date(track.stale).toLocaleString(config.locale, { timeZoneName: "short" })],
  ];
  if (track.remarks) rows.push([S.remarks, track.remarks]);
  const label = text("span", track.label.marking, "marking label-marking");
  const labelCell = document.createElement("dd");
  labelCell.append(label);
  const children = [text("dt", S.label), labelCell];
  for (const [term, value] of rows) children.push(text("dt", term), text("dd", value));
  fields.replaceChildren(...children);
  labelView(track.label).then((v) => {
    label.textContent = v.banner;
    markLevel(label, v);
    if (v.original && v.original !== v.banner) label.title = v.original;
  });
}

function drawChart() {
  const box = document.getElementById("panel-chart");
  const note = document.getElementById("panel-chart-note");
  const enough = chartData[0].length >= 2;
  note.hidden = enough;
  box.hidden = !enough;
  if (!enough) {
    if (chart) chart.destroy();
    chart = null;
    return;
  }
  if (chart) {
    chart.setData(chartData);
    return;
  }
  chart = new uPlot(
    {
      width: Math.max(200, box.clientWidth || 260),
      height: 120,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{ stroke: "#333" }, { stroke: "#333", label: S.speedAxis, size: 44 }],
      series: [{}, { label: S.speed, stroke: "#00639b", width: 2, points: { show: true } }],
    },
    chartData,
    box,
  );
}

function showHistoryCount() {
  document.getElementById("panel-history").textContent = format(S.historyPoints, {
    n: historyCount,
  });
}

function extendHistory(track) {
  if (trail) {
    trail.addLatLng([track.lat, track.lon]);
    historyCount += 1;
    showHistoryCount();
  }
  const t = Date.parse(track.time) / 1000;
  if (track.speed != null && t > (chartData[0].at(-1) ?? 0)) {
    chartData = [
      [...chartData[0], t],
      [...chartData[1], track.speed],
    ];
    drawChart();
  }
}

async function loadHistory(uid) {
  const url = `${config.history}${encodeURIComponent(uid)}/history?limit=500`;
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok || selected !== uid) return;
  const body = await response.json();
  const points = body.positions.map((p) => [p.lat, p.lon]);
  if (trail) trail.remove();
  trail = L.polyline(points, { color: "#b00020", weight: 2, dashArray: "4 4" }).addTo(map);
  const withSpeed = body.positions.filter((p) => p.speed != null);
  chartData = [withSpeed.map((p) => Date.parse(p.time) / 1000), withSpeed.map((p) => p.speed)];
  historyCount = body.positions.length;
  showHistoryCount();
  drawChart();
}

function select(uid, fromList) {
  const entry = tracks.get(uid);
  if (!entry) return;
  selected = uid;
  for (const other of tracks.values()) {
    other.item.querySelector("button").setAttribute("aria-pressed", String(other === entry));
    applyFilter(other);
  }
  showPanel(entry.track);
  if (fromList) map.panTo([entry.track.lat, entry.track.lon]);
  else if (window.matchMedia("(max-width: 900px)").matches) {
    // One column (tablets): the panel is below the map; bring it into view.
    document.getElementById("track-panel").scrollIntoView({ block: "nearest" });
  }
  if (chart) chart.destroy();
  chart = null;
  chartData = [[], []];
  loadHistory(uid).catch(() => setStatus(S.historyFailed, "error"));
}

function deselect() {
  selected = null;
  if (trail) trail.remove();
  trail = null;
  if (chart) chart.destroy();
  chart = null;
  document.getElementById("track-panel").hidden = true;
  for (const entry of tracks.values()) {
    entry.item.querySelector("button").setAttribute("aria-pressed", "false");
    applyFilter(entry);
  }
}

document.getElementById("panel-close").addEventListener("click", () => {
  const uid = selected;
  deselect();
  document.querySelector(`#track-list button[data-uid="${CSS.escape(uid || "")}"]`)?.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && selected) deselect();
});

// --------------------------------------------------------------------------------- live stream

function setStatus(message, state) {
  const status = document.getElementById("map-status");
  status.textContent = message;
  status.dataset.state = state;
}

let socket = null;
let retry = 1000;
let seenSinceOpen = null; // uids in the snapshot of the current connection

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}${config.stream}`, ["kyodo.v1"]);
  seenSinceOpen = new Set();
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ op: "subscribe", nets: [], after: 0, tracks: true }));
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "track") {
      seenSinceOpen?.add(data.track.uid);
      upsert(data.track);
    } else if (data.type === "track_deleted") {
      // Deleted by its originator or a writer of its feed: off the map at once.
      seenSinceOpen?.delete(data.uid);
      remove(data.uid);
    } else if (data.type === "subscribed") {
      // The snapshot is complete: drop what this connection's snapshot no longer has.
      for (const uid of [...tracks.keys()]) if (!seenSinceOpen.has(uid)) remove(uid);
      seenSinceOpen = null;
      retry = 1000;
      setStatus(S.live, "live");
      document.getElementById("map").dataset.stream = "live";
    }
  });
  socket.addEventListener("close", (event) => {
    document.getElementById("map").dataset.stream = "down";
    if (event.code === 4401) {
      // The session ended (logged out elsewhere, expired): no point in retrying.
      setStatus(S.sessionEnded, "error");
      return;
    }
    setStatus(S.reconnecting, "down");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  });
}

/** Tracks the reader may no longer read (label raised, deleted) leave the map. */
async function reconcile() {
  const started = Date.now();
  const response = await fetch(`${config.tracks}?limit=5000`, { credentials: "same-origin" });
  if (!response.ok) return;
  const listed = new Set((await response.json()).map((t) => t.uid));
  for (const [uid, entry] of tracks) {
    if (!listed.has(uid) && entry.receivedAt < started) remove(uid);
  }
}

setInterval(() => reconcile().catch(() => {}), RECONCILE_MS);
connect();

// Read-only hooks for the browser tests.
window.kyodoMap = {
  map,
  position: (uid) => {
    const entry = tracks.get(uid);
    if (!entry) return null;
    return entry.marker.getLatLng ? entry.marker.getLatLng() : entry.marker.getBounds().getCenter();
  },
  uids: () => [...tracks.keys()].sort(),
};
