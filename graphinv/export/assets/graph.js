/* graphinv's interactive graph: draws #gi-data with vis-network, adds search, filters and a
 * details panel. Every value from the data reaches the document through textContent or a
 * vis-network canvas label, never as markup: a firm's name cannot become HTML. */
(function () {
  "use strict";

  var KINDS = {
    Company: { name: "Company", shape: "square", color: "#3466b0", border: "#1d3f73", size: 15 },
    Customs: { name: "Company known only from customs records", shape: "square", color: "#a9bcd6", border: "#6b84a8", size: 12 },
    Person: { name: "Person", shape: "dot", color: "#ec8a2d", border: "#a85a12", size: 14 },
    Address: { name: "Address", shape: "triangle", color: "#4f9a52", border: "#2e6330", size: 13 },
    Account: { name: "Bank account", shape: "diamond", color: "#8d62b5", border: "#5b3b7b", size: 9 },
    Shipment: { name: "Shipment (customs record)", shape: "hexagon", color: "#a8875f", border: "#6e5335", size: 7 }
  };
  var RELS = {
    OWNS: { name: "owns (share)", color: "#1f4e99", arrow: true, width: 2.2, length: 170 },
    OFFICER_OF: { name: "officer of (role)", color: "#22918a", arrow: true, width: 1.5, length: 170 },
    FAMILY: { name: "family (spouse, child…)", color: "#d0465a", arrow: false, width: 2, length: 120 },
    HAS_ADDRESS: { name: "registered at", color: "#6f9470", arrow: true, width: 1.3, length: 140 },
    HOLDS: { name: "holds account", color: "#9b80b8", arrow: true, width: 0.8, length: 45 },
    IMPORTED: { name: "imported (kg, product, date)", color: "#8a6644", arrow: true, width: 0.8, length: 60 },
    EXPORTED: { name: "exported", color: "#bba58c", arrow: true, width: 0.6, length: 110 },
    POSSIBLY_SAME_AS: { name: "possibly the same (uncertain match)", color: "#888888", arrow: false, dashes: true, width: 1.5, length: 120 }
  };
  var FLAG_RED = "#d62728";
  var FLAG = "\u2691 ";

  var root = document.getElementById("gi-widget");
  var data = JSON.parse(document.getElementById("gi-data").textContent);
  var meta = {};
  var edgeMeta = {};
  var adjacency = {};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function kindOf(n) { return n.customs_only ? "Customs" : n.kind; }
  function fmt(n) { return Number(n).toLocaleString("en"); }
  function norm(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^0-9a-z&\u00f1]+/g, " ").trim();
  }

  data.nodes.forEach(function (n) { meta[n.id] = n; adjacency[n.id] = []; });
  data.edges.forEach(function (e) {
    edgeMeta[e.id] = e;
    adjacency[e.from].push(e.id);
    if (e.to !== e.from) adjacency[e.to].push(e.id);
  });

  function visNode(n) {
    var k = KINDS[kindOf(n)] || KINDS.Company;
    var size = n.seed ? k.size * 1.6 : k.size;
    var label = (n.flagged ? FLAG : "") + n.label;
    if (n.hub) label += "\n(hub: " + fmt(n.hub) + " firms/persons, not expanded)";
    var border = n.flagged ? FLAG_RED : k.border;
    var item = {
      id: n.id, kind: n.kind, flagged: !!n.flagged, seed: !!n.seed, label: label,
      x: n.x, y: n.y, shape: k.shape, size: size,
      borderWidth: n.flagged ? 5 : (n.seed ? 3 : 1.5),
      borderWidthSelected: n.flagged ? 7 : 4,
      color: {
        background: k.color, border: border,
        highlight: { background: k.color, border: n.flagged ? FLAG_RED : "#111111" },
        hover: { background: k.color, border: n.flagged ? FLAG_RED : "#111111" }
      },
      font: {
        size: n.seed ? 28 : (n.kind === "Shipment" || n.kind === "Account" ? 13 : n.kind === "Address" ? 21 : 23),
        color: n.flagged ? "#b00000" : "#1d1d1d", strokeWidth: 3, strokeColor: "#ffffff",
        face: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
      }
    };
    if (n.flagged) item.shadow = { enabled: true, color: "rgba(214,39,40,0.55)", size: 12, x: 0, y: 0 };
    if (n.hub || n.customs_only) item.shapeProperties = { borderDashes: [5, 4] };
    return item;
  }

  var pairCount = {};
  function visEdge(e) {
    var r = RELS[e.rel] || { color: "#777777", arrow: true };
    var pair = e.from < e.to ? e.from + "|" + e.to : e.to + "|" + e.from;
    var nth = pairCount[pair] || 0;
    pairCount[pair] = nth + 1;
    var item = {
      id: e.id, from: e.from, to: e.to, rel: e.rel, label: e.label,
      color: { color: r.color, highlight: "#111111", hover: "#111111", opacity: e.ended ? 0.45 : 0.9 },
      width: r.width || 1.2,
      length: r.length,
      dashes: !!(r.dashes || e.ended),
      arrows: { to: { enabled: !!r.arrow, scaleFactor: 0.55 } },
      font: { size: 14, color: "#3a3a3a", strokeWidth: 4, strokeColor: "#ffffff", align: "horizontal" }
    };
    if (nth > 0) {
      item.smooth = { enabled: true, type: nth % 2 ? "curvedCW" : "curvedCCW", roundness: 0.18 * Math.ceil(nth / 2) };
    }
    return item;
  }

  var nodes = new vis.DataSet(data.nodes.map(visNode));
  var edges = new vis.DataSet(data.edges.map(visEdge));
  var big = data.nodes.length > 1500;
  // The page starts from a seeded radial layout (Python side), so physics only tidies: big pages
  // get fewer iterations (each costs ~O(n log n); 60 at 2,000 nodes looks like 120, in half the time).
  var n = data.nodes.length;
  var iterations = n > 5000 ? 30 : n > 1500 ? 60 : n > 500 ? 150 : 200;

  // --- toolbar -----------------------------------------------------------------------------------
  var toolbar = document.getElementById("gi-toolbar");
  var title = el("h1", "gi-title", data.title);
  toolbar.appendChild(title);

  var searchBox = el("div", "gi-search");
  var search = el("input");
  search.type = "search";
  search.id = "gi-search";
  search.placeholder = "Find: name, customs spelling, id, tax id";
  search.setAttribute("aria-label", "Find an entity");
  search.autocomplete = "off";
  var results = el("ul", "gi-results");
  results.id = "gi-results";
  results.hidden = true;
  searchBox.appendChild(search);
  searchBox.appendChild(results);
  toolbar.appendChild(searchBox);

  var kindCounts = {};
  data.nodes.forEach(function (n) { kindCounts[kindOf(n)] = (kindCounts[kindOf(n)] || 0) + 1; });
  var kindFilter = {};
  var filters = el("div", "gi-filters");
  filters.id = "gi-kind-filters";
  Object.keys(KINDS).forEach(function (k) {
    if (!kindCounts[k]) return;
    kindFilter[k] = true;
    var label = el("label", "gi-check");
    var box = el("input");
    box.type = "checkbox";
    box.checked = true;
    box.dataset.kind = k;
    box.addEventListener("change", function () { kindFilter[k] = box.checked; applyFilters(); });
    label.appendChild(box);
    label.appendChild(swatch(k));
    label.appendChild(el("span", null, (k === "Customs" ? "Customs party" : k === "Account" ? "Account" : k === "Shipment" ? "Shipment" : KINDS[k].name) + " (" + fmt(kindCounts[k]) + ")"));
    filters.appendChild(label);
  });
  toolbar.appendChild(filters);

  var flagSelect = el("select", "gi-flag-filter");
  flagSelect.id = "gi-flag-filter";
  flagSelect.setAttribute("aria-label", "Filter by flag");
  [["all", "All entities"], ["near", "\u2691 Flagged and their direct links"], ["flagged", "\u2691 Flagged only"]].forEach(function (o) {
    var opt = el("option", null, o[1]);
    opt.value = o[0];
    flagSelect.appendChild(opt);
  });
  flagSelect.addEventListener("change", applyFilters);
  toolbar.appendChild(flagSelect);

  var labelsLabel = el("label", "gi-check");
  var labelsBox = el("input");
  labelsBox.type = "checkbox";
  labelsBox.checked = true;
  labelsBox.id = "gi-edge-labels";
  labelsLabel.appendChild(labelsBox);
  labelsLabel.appendChild(el("span", null, "Link labels"));
  toolbar.appendChild(labelsLabel);

  var fitButton = el("button", "gi-button", "Fit");
  fitButton.type = "button";
  toolbar.appendChild(fitButton);
  var physicsButton = el("button", "gi-button", "Freeze layout");
  physicsButton.type = "button";
  physicsButton.id = "gi-physics";
  toolbar.appendChild(physicsButton);

  // --- side panel --------------------------------------------------------------------------------
  var side = document.getElementById("gi-side");
  var details = el("section", "gi-details");
  details.id = "gi-details";
  side.appendChild(details);
  var legend = el("section", "gi-legend");
  side.appendChild(legend);
  var about = el("section", "gi-about");
  about.id = "gi-notes";
  side.appendChild(about);

  function swatch(kind, flagged) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("viewBox", "0 0 18 18");
    svg.setAttribute("class", "gi-swatch");
    var k = KINDS[kind] || KINDS.Company;
    var shape;
    if (k.shape === "dot") {
      shape = document.createElementNS(ns, "circle");
      shape.setAttribute("cx", "9"); shape.setAttribute("cy", "9"); shape.setAttribute("r", "6.5");
    } else if (k.shape === "square") {
      shape = document.createElementNS(ns, "rect");
      shape.setAttribute("x", "3"); shape.setAttribute("y", "3"); shape.setAttribute("width", "12"); shape.setAttribute("height", "12");
    } else {
      shape = document.createElementNS(ns, "polygon");
      var pts = { triangle: "9,2 16,15 2,15", diamond: "9,1.5 16.5,9 9,16.5 1.5,9", hexagon: "5,2.5 13,2.5 17,9 13,15.5 5,15.5 1,9" };
      shape.setAttribute("points", pts[k.shape] || pts.hexagon);
    }
    shape.setAttribute("fill", k.color);
    shape.setAttribute("stroke", flagged ? FLAG_RED : k.border);
    shape.setAttribute("stroke-width", flagged ? "3" : "1.2");
    if (kind === "Customs") shape.setAttribute("stroke-dasharray", "3 2");
    svg.appendChild(shape);
    return svg;
  }

  function buildLegend() {
    legend.appendChild(el("h3", null, "Legend"));
    var list = el("ul", "gi-legend-list");
    Object.keys(KINDS).forEach(function (k) {
      if (!kindCounts[k]) return;
      var li = el("li");
      li.appendChild(swatch(k));
      li.appendChild(el("span", null, KINDS[k].name));
      list.appendChild(li);
    });
    var flagged = el("li", "gi-legend-flag");
    flagged.appendChild(swatch("Company", true));
    flagged.appendChild(el("span", null, "\u2691 red ring: on a watchlist (click for the list and reason)"));
    list.appendChild(flagged);
    var seed = el("li");
    seed.appendChild(el("span", "gi-legend-big", "\u25a0"));
    seed.appendChild(el("span", null, "large: where this view starts"));
    list.appendChild(seed);
    if (data.nodes.some(function (n) { return n.hub; })) {
      var hub = el("li");
      hub.appendChild(el("span", "gi-legend-dash", "\u2b1a"));
      hub.appendChild(el("span", null, "dashed outline: hub, its other links not followed"));
      list.appendChild(hub);
    }
    legend.appendChild(list);
    var rels = el("ul", "gi-legend-list gi-legend-rels");
    var used = {};
    data.edges.forEach(function (e) { used[e.rel] = true; });
    Object.keys(RELS).forEach(function (r) {
      if (!used[r]) return;
      var li = el("li");
      var line = el("span", "gi-line");
      line.style.borderTopColor = RELS[r].color;
      if (RELS[r].dashes) line.style.borderTopStyle = "dashed";
      li.appendChild(line);
      li.appendChild(el("span", null, RELS[r].name));
      rels.appendChild(li);
    });
    if (data.edges.some(function (e) { return e.ended; })) {
      var ended = el("li");
      var l = el("span", "gi-line");
      l.style.borderTopStyle = "dashed";
      ended.appendChild(l);
      ended.appendChild(el("span", null, "dashed, faint: link that has ended (until …)"));
      rels.appendChild(ended);
    }
    legend.appendChild(rels);
    legend.appendChild(el("p", "gi-hint", "Click an entity or a link for its properties and the source rows behind each fact. Drag to move, scroll to zoom."));
  }

  function buildNotes() {
    about.appendChild(el("h3", null, "What this view shows"));
    var flaggedCount = data.nodes.filter(function (n) { return n.flagged; }).length;
    if (data.description) about.appendChild(el("p", "gi-summary", data.description + "."));
    about.appendChild(el("p", "gi-summary",
      fmt(data.nodes.length) + " entities and " + fmt(data.edges.length) + " links" +
      (data.description ? "" : " within " + data.hops + " link" + (data.hops === 1 ? "" : "s") + " of the starting entities") +
      "; " + fmt(flaggedCount) + " flagged."));
    if (data.notes.length) {
      var list = el("ul", "gi-notes");
      data.notes.forEach(function (t) { list.appendChild(el("li", null, t)); });
      about.appendChild(list);
    } else {
      about.appendChild(el("p", "gi-hint", "Nothing within that distance was left out."));
    }
  }

  function clearDetails() {
    while (details.firstChild) details.removeChild(details.firstChild);
  }
  function idleDetails() {
    clearDetails();
    details.appendChild(el("h3", null, "Details"));
    details.appendChild(el("p", "gi-hint", "Click an entity or a link, or find one by name above."));
  }

  function sourcesList(sources) {
    var list = el("ul", "gi-sources");
    (sources || []).forEach(function (s) { list.appendChild(el("li", null, s)); });
    if (!sources || !sources.length) list.appendChild(el("li", "gi-hint", "no source recorded"));
    return list;
  }

  function propsTable(props) {
    var table = el("table", "gi-props");
    props.forEach(function (p) {
      var tr = el("tr");
      tr.appendChild(el("th", null, String(p[0]).replace(/_/g, " ")));
      tr.appendChild(el("td", null, p[1]));
      table.appendChild(tr);
    });
    return table;
  }

  function entityButton(id) {
    var n = meta[id];
    var b = el("button", "gi-link-entity" + (n && n.flagged ? " gi-flagged-text" : ""), (n && n.flagged ? FLAG : "") + (n ? n.name : id));
    b.type = "button";
    b.addEventListener("click", function () { selectNode(id); });
    return b;
  }

  function showNode(id) {
    var n = meta[id];
    if (!n) return;
    clearDetails();
    var k = KINDS[kindOf(n)] || KINDS.Company;
    var head = el("div", "gi-kind");
    head.appendChild(swatch(kindOf(n), n.flagged));
    head.appendChild(el("span", null, k.name + (n.seed ? " \u00b7 a starting point of this view" : " \u00b7 " + n.distance + " link" + (n.distance === 1 ? "" : "s") + " from the starting points")));
    details.appendChild(head);
    details.appendChild(el("h2", "gi-name" + (n.flagged ? " gi-flagged-text" : ""), (n.flagged ? FLAG : "") + n.name));
    if (n.flagged) {
      var banner = el("div", "gi-flag-banner");
      banner.appendChild(el("strong", null, "\u2691 On a watchlist: " + (n.flags || []).join(", ")));
      var reasons = el("ul");
      (n.flag_reasons || []).forEach(function (r) { reasons.appendChild(el("li", null, r)); });
      banner.appendChild(reasons);
      details.appendChild(banner);
    }
    if (n.customs_only) details.appendChild(el("p", "gi-hint", "Known only from how customs records name it; not matched to a registry firm."));
    if (n.aliases && n.aliases.length) {
      details.appendChild(el("h4", null, "Also written as"));
      var al = el("ul", "gi-aliases");
      n.aliases.forEach(function (a) { al.appendChild(el("li", null, a)); });
      details.appendChild(al);
    }
    if (n.customs_names && n.customs_names.length) {
      details.appendChild(el("h4", null, "Named on its customs records as"));
      var cn = el("ul", "gi-aliases");
      n.customs_names.forEach(function (a) { cn.appendChild(el("li", null, a)); });
      details.appendChild(cn);
    }
    details.appendChild(el("h4", null, "Properties"));
    details.appendChild(propsTable(n.props));
    details.appendChild(el("h4", null, "Sources (the rows that state this entity)"));
    var src = sourcesList(n.sources);
    src.id = "gi-node-sources";
    details.appendChild(src);
    var order = ["OWNS", "OFFICER_OF", "FAMILY", "POSSIBLY_SAME_AS", "HAS_ADDRESS", "HOLDS", "IMPORTED", "EXPORTED"];
    var links = (adjacency[id] || []).slice().sort(function (a, b) {
      var ra = order.indexOf(edgeMeta[a].rel), rb = order.indexOf(edgeMeta[b].rel);
      return ra - rb || (edgeMeta[a].label < edgeMeta[b].label ? -1 : edgeMeta[a].label > edgeMeta[b].label ? 1 : 0);
    });
    details.appendChild(el("h4", null, "Links shown (" + links.length + ")"));
    var list = el("ul", "gi-links");
    links.forEach(function (eid) {
      var e = edgeMeta[eid];
      var other = e.from === id ? e.to : e.from;
      var li = el("li");
      var line = el("div");
      if (e.from === id) {
        line.appendChild(el("span", "gi-caption", "this \u2192 " + e.label + " \u2192 "));
        line.appendChild(entityButton(other));
      } else {
        line.appendChild(entityButton(other));
        line.appendChild(el("span", "gi-caption", " \u2192 " + e.label + " \u2192 this"));
      }
      li.appendChild(line);
      li.appendChild(el("div", "gi-link-sources", e.sources.join("; ")));
      list.appendChild(li);
    });
    details.appendChild(list);
    if (n.more) {
      var why = n.hub ? "a hub: its links were not followed" : data.description ? "outside this view" :
        (n.distance >= data.hops ? "beyond the distance shown (--hops)" : "left out by the node cap (--max-nodes)");
      details.appendChild(el("p", "gi-more", fmt(n.more) + " more linked entit" + (n.more === 1 ? "y" : "ies") + " not shown: " + why + "."));
    }
  }

  function showEdge(eid) {
    var e = edgeMeta[eid];
    if (!e) return;
    clearDetails();
    var r = RELS[e.rel] || { name: e.rel };
    details.appendChild(el("div", "gi-kind", "Link \u00b7 " + r.name));
    details.appendChild(el("h2", "gi-name", e.label));
    var ends = el("p", "gi-ends");
    ends.appendChild(entityButton(e.from));
    ends.appendChild(el("span", null, " \u2192 "));
    ends.appendChild(entityButton(e.to));
    details.appendChild(ends);
    if (e.props.length) {
      details.appendChild(el("h4", null, "Properties"));
      details.appendChild(propsTable(e.props));
    }
    details.appendChild(el("h4", null, "Sources (the rows that state this link)"));
    var src = sourcesList(e.sources);
    src.id = "gi-edge-sources";
    details.appendChild(src);
  }

  // --- network -----------------------------------------------------------------------------------
  var container = document.getElementById("gi-canvas");
  var status = document.getElementById("gi-status");
  var options = {
    autoResize: true,
    layout: { improvedLayout: false, randomSeed: 20210315 },
    physics: {
      enabled: true,
      solver: "forceAtlas2Based",
      forceAtlas2Based: { gravitationalConstant: -200, centralGravity: 0.01, springLength: 95, springConstant: 0.06, damping: 0.5, avoidOverlap: 0.5 },
      maxVelocity: 60,
      minVelocity: 1,
      timestep: 0.45,
      stabilization: { enabled: true, iterations: iterations, updateInterval: 20, fit: true }
    },
    interaction: { hover: true, tooltipDelay: 3600000, hideEdgesOnDrag: big, hideEdgesOnZoom: big, keyboard: false, multiselect: false },
    // Labels appear once they are readable: names at an overview, link captions, accounts and
    // shipments when zoomed in (a label under ~7px on screen is noise, and costs drawing time).
    // Fonts are large so names read at an overview; maxVisible stops them growing when zoomed in.
    nodes: { borderWidth: 1.5, scaling: { label: { drawThreshold: 7, maxVisible: 18 } } },
    edges: { smooth: false, selectionWidth: 2, hoverWidth: 1, scaling: { label: { drawThreshold: 9, maxVisible: 14 } } }
  };
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, options);

  var api = { network: network, nodes: nodes, edges: edges, data: data, ready: false, readyAt: null, frozen: false };
  window.graphinv = api;

  network.on("stabilizationProgress", function (p) {
    status.textContent = "Laying out the graph\u2026 " + Math.round(100 * p.iterations / p.total) + "%";
  });
  network.once("stabilizationIterationsDone", function () {
    // Freeze once settled: an analyst reads a still picture; "Resume layout" lets it move again.
    network.setOptions({ physics: { enabled: false } });
    api.frozen = true;
    physicsButton.textContent = "Resume layout";
    status.hidden = true;
    network.fit({ animation: false });
    api.ready = true;
    api.readyAt = performance.now();
    root.dataset.ready = "true";
    document.documentElement.dataset.ready = "true";
  });

  physicsButton.addEventListener("click", function () {
    api.frozen = !api.frozen;
    network.setOptions({ physics: { enabled: !api.frozen, stabilization: { enabled: false } } });
    physicsButton.textContent = api.frozen ? "Resume layout" : "Freeze layout";
  });
  fitButton.addEventListener("click", function () { network.fit({ animation: { duration: 300 } }); });
  labelsBox.addEventListener("change", function () {
    var on = labelsBox.checked;
    edges.update(data.edges.map(function (e) { return { id: e.id, label: on ? e.label : " " }; }));
  });

  network.on("click", function (p) {
    if (p.nodes.length) showNode(p.nodes[0]);
    else if (p.edges.length) showEdge(p.edges[0]);
    else idleDetails();
  });

  // A hover card built with textContent (vis-network would render a string title as HTML).
  var tip = el("div", "gi-tip");
  tip.hidden = true;
  container.appendChild(tip);
  network.on("hoverNode", function (p) {
    var n = meta[p.node];
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    tip.appendChild(el("strong", n.flagged ? "gi-flagged-text" : null, (n.flagged ? FLAG : "") + n.name));
    tip.appendChild(el("div", null, (KINDS[kindOf(n)] || KINDS.Company).name + (n.flagged ? " \u00b7 flagged: " + (n.flags || []).join(", ") : "")));
    tip.appendChild(el("div", "gi-hint", "click for properties and sources"));
    tip.style.left = (p.pointer.DOM.x + 14) + "px";
    tip.style.top = (p.pointer.DOM.y + 14) + "px";
    tip.hidden = false;
  });
  network.on("blurNode", function () { tip.hidden = true; });
  network.on("dragStart", function () { tip.hidden = true; });

  // --- search ------------------------------------------------------------------------------------
  var index = data.nodes.map(function (n) {
    var keys = [["name", n.name]];
    (n.aliases || []).forEach(function (a) { keys.push(["also written as", a]); });
    (n.customs_names || []).forEach(function (a) { keys.push(["customs spelling", a]); });
    if (n.bundle_id) keys.push(["source id", n.bundle_id]);
    if (n.tax_id) keys.push(["tax id", n.tax_id]);
    keys.push(["id", n.id]);
    return { id: n.id, keys: keys.map(function (k) { return [k[0], k[1], norm(k[1])]; }) };
  });

  function find(query) {
    var q = norm(query);
    if (!q) return [];
    var found = [];
    index.forEach(function (entry) {
      for (var i = 0; i < entry.keys.length; i++) {
        var key = entry.keys[i];
        var at = key[2].indexOf(q);
        if (at >= 0) {
          found.push({ id: entry.id, via: key[0], text: key[1], rank: (key[2] === q ? 0 : at === 0 ? 1 : 2) * 10 + (i === 0 ? 0 : 1) });
          break;
        }
      }
    });
    found.sort(function (a, b) { return a.rank - b.rank || (meta[a.id].name < meta[b.id].name ? -1 : 1); });
    return found;
  }
  api.find = find;

  function showResults() {
    var found = find(search.value);
    while (results.firstChild) results.removeChild(results.firstChild);
    if (!search.value.trim()) { results.hidden = true; return; }
    if (!found.length) {
      results.appendChild(el("li", "gi-hint", "No entity in this view matches."));
    }
    found.slice(0, 25).forEach(function (f) {
      var n = meta[f.id];
      var li = el("li");
      var b = el("button", "gi-result" + (n.flagged ? " gi-flagged-text" : ""));
      b.type = "button";
      b.dataset.id = f.id;
      b.appendChild(el("span", "gi-result-name", (n.flagged ? FLAG : "") + n.name));
      b.appendChild(el("span", "gi-result-kind", (KINDS[kindOf(n)] || KINDS.Company).name + (f.via === "name" ? "" : " \u00b7 " + f.via + ": " + f.text)));
      b.addEventListener("click", function () { results.hidden = true; selectNode(f.id); });
      li.appendChild(b);
      results.appendChild(li);
    });
    if (found.length > 25) results.appendChild(el("li", "gi-hint", (found.length - 25) + " more: type more of the name"));
    results.hidden = false;
  }
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(showResults, 120); });
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var found = find(search.value);
      if (found.length) { results.hidden = true; selectNode(found[0].id); }
    } else if (ev.key === "Escape") {
      results.hidden = true;
    }
  });

  function selectNode(id) {
    var item = nodes.get(id);
    if (!item) return;
    if (item.hidden) {
      nodes.update({ id: id, hidden: false });
    }
    network.selectNodes([id]);
    network.focus(id, { scale: Math.max(network.getScale(), 1.1), animation: { duration: 350, easingFunction: "easeInOutQuad" } });
    showNode(id);
  }
  api.select = selectNode;

  // --- filters -----------------------------------------------------------------------------------
  var nearFlagged = {};
  data.edges.forEach(function (e) {
    if (meta[e.from].flagged) nearFlagged[e.to] = true;
    if (meta[e.to].flagged) nearFlagged[e.from] = true;
  });
  var hiddenNodes = {};
  function applyFilters() {
    var mode = flagSelect.value;
    var nodeChanges = [];
    data.nodes.forEach(function (n) {
      var show = kindFilter[kindOf(n)] !== false &&
        (mode === "all" || n.flagged || (mode === "near" && nearFlagged[n.id]));
      if (!!hiddenNodes[n.id] === show) {
        hiddenNodes[n.id] = !show;
        nodeChanges.push({ id: n.id, hidden: !show });
      }
    });
    nodes.update(nodeChanges);
    var edgeChanges = data.edges.map(function (e) {
      return { id: e.id, hidden: !!(hiddenNodes[e.from] || hiddenNodes[e.to]) };
    });
    edges.update(edgeChanges);
    api.visible = data.nodes.length - Object.keys(hiddenNodes).filter(function (k) { return hiddenNodes[k]; }).length;
  }
  api.applyFilters = applyFilters;

  buildLegend();
  buildNotes();
  idleDetails();
})();
