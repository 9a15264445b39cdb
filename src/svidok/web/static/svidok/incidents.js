// Maps of incidents with Leaflet (served by Svidok itself): the shipped oblast
// polygons as the offline base layer, tiles only when the instance names a server.
"use strict";

function svidokBaseMap(element) {
  const map = L.map(element, { attributionControl: true, preferCanvas: true });
  const tiles = element.dataset.tiles;
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap contributors" }).addTo(map);
  }
  fetch(element.dataset.oblasts, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((oblasts) => {
      L.geoJSON(oblasts, {
        style: { color: "#555", weight: 1, fillColor: "#e8e4da", fillOpacity: tiles ? 0 : 0.6 },
      }).addTo(map).bringToBack();
    });
  map.attributionControl.addAttribution("Oblasts: geoBoundaries, © OpenStreetMap contributors (ODbL)");
  return map;
}

function svidokPopup(feature) {
  // Built from DOM nodes, never from HTML strings: titles come from public datasets.
  const box = document.createElement("div");
  const link = document.createElement("a");
  link.href = feature.properties.url;
  link.textContent = feature.properties.title;
  box.appendChild(link);
  box.appendChild(document.createElement("br"));
  box.appendChild(document.createTextNode(`${feature.properties.start} · ${feature.properties.status}`));
  return box;
}

document.addEventListener("DOMContentLoaded", () => {
  const one = document.getElementById("incident-map");
  if (one && window.L) {
    const point = [Number(one.dataset.lat), Number(one.dataset.lon)];
    const map = svidokBaseMap(one);
    map.setView(point, 9);
    L.circleMarker(point, { radius: 7, color: "#b00020" }).addTo(map);
  }
  const all = document.getElementById("map");
  if (all && window.L) {
    const map = svidokBaseMap(all);
    map.setView([48.6, 31.2], 6);
    const status = document.getElementById("map-status");
    fetch(all.dataset.points, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((points) => {
        const layer = L.geoJSON(points, {
          pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 4, color: "#b00020", weight: 1 }),
          onEachFeature: (feature, marker) => marker.bindPopup(() => svidokPopup(feature)),
        }).addTo(map);
        if (points.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 10 });
        if (status) status.dataset.count = String(points.features.length);
      });
  }
});
