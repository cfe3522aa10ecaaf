// The case page's map of where the problem is, drawn with Leaflet on the council's tiles (MAP_TILE_URL).
// Progressive enhancement: the container is hidden until this runs, and Leaflet is loaded only when a page has a
// map to show. Without JavaScript the written address and the "On a map" link are all there is, and all it needs.
//
// The map does not trap the keyboard: Tab moves past it as past any control; when it has focus, the arrow keys
// pan and + and - zoom (Leaflet's keyboard handler). The mouse wheel scrolls the page, not the map.

let leaflet = null;

function load(tag, attributes) {
  return new Promise((resolve, reject) => {
    const element = document.createElement(tag);
    Object.assign(element, attributes);
    element.addEventListener("load", () => resolve());
    element.addEventListener("error", () => reject(new Error(`Could not load ${attributes.src || attributes.href}`)));
    document.head.appendChild(element);
  });
}

function loadLeaflet(container) {
  leaflet ??= Promise.all([
    load("link", { rel: "stylesheet", href: container.dataset.leafletCss }),
    load("script", { src: container.dataset.leafletJs }),
  ]).then(() => window.L);
  return leaflet;
}

function escapeHtml(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

function draw(L, container) {
  const latitude = Number(container.dataset.latitude);
  const longitude = Number(container.dataset.longitude);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return;
  container.hidden = false;
  const map = L.map(container, { scrollWheelZoom: false, keyboard: true }).setView([latitude, longitude], 17);
  map.attributionControl.setPrefix(false);
  L.tileLayer(container.dataset.tileUrl, {
    attribution: escapeHtml(container.dataset.attribution || ""),
    maxZoom: 19,
  }).addTo(map);
  L.Icon.Default.imagePath = container.dataset.leafletImages;
  const label = `Where ${container.dataset.reference} was reported`;
  // Not a control of its own (it opens nothing), so not a tab stop.
  L.marker([latitude, longitude], { alt: label, title: label, keyboard: false }).addTo(map);
}

export async function initCaseMaps(root) {
  const containers = root.querySelectorAll("[data-module='app-case-map']");
  if (containers.length === 0) return;
  let L;
  try {
    L = await loadLeaflet(containers[0]);
  } catch {
    return; // the map stays hidden: the address and the "On a map" link still say where it is
  }
  for (const container of containers) draw(L, container);
}
