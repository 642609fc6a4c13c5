// Zoom and search for a krosim flame graph. Frames carry their offset and
// width in value units (data-x, data-w: exact integers) and their depth
// (data-d), so zooming tests containment exactly and rescales.
(function () {
  "use strict";
  var svg = document.getElementById("flame");
  var PAD = +svg.getAttribute("data-pad");
  var SPAN = +svg.getAttribute("data-span");
  var CW = +svg.getAttribute("data-cw");
  var TOTAL = +svg.getAttribute("data-total");
  var frames = Array.prototype.slice.call(svg.querySelectorAll("g.f"));
  var info = document.getElementById("info");
  var match = document.getElementById("match");
  var search = document.getElementById("search");
  var root = frames[0];

  function num(g, k) { return +g.getAttribute("data-" + k); }

  // fit truncates a name with an ellipsis to what w pixels show, as render.go does.
  function fit(name, w) {
    var c = Math.floor((w - 6) / CW);
    if (c < 3) { return ""; }
    var r = Array.from(name);
    return r.length <= c ? name : r.slice(0, c - 1).join("") + "\u2026";
  }

  function place(g, x, w) {
    var r = g.querySelector("rect");
    var t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", w.toFixed(2));
    t.setAttribute("x", (x + 3).toFixed(2));
    t.textContent = fit(g.getAttribute("data-n"), w);
  }

  function zoom(z) {
    var zx = num(z, "x"), zw = num(z, "w"), zd = num(z, "d");
    frames.forEach(function (g) {
      var x = num(g, "x"), w = num(g, "w"), d = num(g, "d");
      var cls = g.classList;
      if (d < zd) {
        var covers = x <= zx && x + w >= zx + zw;
        cls.toggle("hide", !covers);
        cls.toggle("anc", covers && z !== root);
        if (covers) { place(g, PAD, SPAN); }
      } else if (x >= zx && x + w <= zx + zw) {
        cls.remove("hide");
        cls.remove("anc");
        place(g, PAD + (x - zx) / zw * SPAN, w / zw * SPAN);
      } else {
        cls.add("hide");
        cls.remove("anc");
      }
    });
    if (info) {
      info.textContent = z === root ? "Click a frame to zoom into it." :
        "Zoomed into " + (z.getAttribute("data-full") || z.getAttribute("data-n")) +
        " (" + (100 * zw / TOTAL).toFixed(2) + "% of the total); Escape or Reset zoom to go back.";
    }
  }

  function find(text) {
    var re = null;
    if (text) {
      try { re = new RegExp(text); } catch (e) { re = null; }
    }
    var covered = -1, sum = 0, n = 0;
    // Frames are in depth-first order, so a hit's descendants follow it and
    // lie before covered: count each matched stretch once.
    frames.forEach(function (g) {
      var hit = re !== null && g !== root && re.test(g.getAttribute("data-full") || g.getAttribute("data-n"));
      g.classList.toggle("hit", hit);
      if (hit) {
        n++;
        var x = num(g, "x");
        if (x >= covered) { sum += num(g, "w"); covered = x + num(g, "w"); }
      }
    });
    if (match) {
      match.textContent = re === null ? (text ? "bad regular expression" : "") :
        n + " frames match, " + (100 * sum / TOTAL).toFixed(2) + "% of the total";
    }
  }

  svg.addEventListener("click", function (e) {
    var g = e.target.closest ? e.target.closest("g.f") : null;
    if (g) { zoom(g); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { zoom(root); }
  });
  var reset = document.getElementById("reset");
  if (reset) { reset.addEventListener("click", function () { zoom(root); }); }
  if (search) { search.addEventListener("input", function () { find(search.value); }); }

  // Self-check: zoom into the first child and back, search and clear;
  // tests read data-flame.
  var ok = root !== undefined;
  if (ok && frames.length > 1) {
    zoom(frames[1]);
    ok = Math.abs(+frames[1].querySelector("rect").getAttribute("width") - SPAN) < 0.01;
    zoom(root);
    ok = ok && !frames[1].classList.contains("hide") &&
      Math.abs(+root.querySelector("rect").getAttribute("width") - SPAN) < 0.01;
    find(".");
    ok = ok && frames[1].classList.contains("hit");
    find("");
    ok = ok && !frames[1].classList.contains("hit");
  }
  document.documentElement.setAttribute("data-flame", ok ? "ready" : "broken");
}());
