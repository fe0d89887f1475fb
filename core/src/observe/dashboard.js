// The dashboard's view: one tile per command, drawn from hystrix.stream frames.
// The one copy of the dashboard's script: the core inlines this module into
// dashboard.html (where an EventSource feeds it), and the npm package ships
// it as dashboard-view.mjs (where mountDashboard feeds it frames the core
// renders in the page). No eval, no inline style: it only builds elements.

/**
 * Draws the dashboard inside `host` (an element or a shadow root) and
 * returns `{ show(frame), status(text), stop() }`: `show` draws one parsed
 * frame (other `type`s are ignored), `status` sets the header's status
 * line, `stop` ends the view's timer. `stream`, when given, adds the form
 * that picks another stream URL (the served page).
 */
export function dashboardView(host, stream) {
  var POINTS = 60;
  var doc = host.ownerDocument || host;
  // Tiles by command name: no prototype, so a command called
  // "constructor" or "__proto__" is a name like any other.
  var seen = Object.create(null);
  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var root = el("div", "hx");
  var header = el("header");
  header.appendChild(el("h1", "", "Hystrix"));
  if (stream !== undefined) {
    var form = el("form");
    form.id = "pick";
    var input = el("input");
    input.id = input.name = "stream";
    input.setAttribute("aria-label", "stream URL");
    input.value = stream;
    form.appendChild(input);
    form.appendChild(el("button", "", "Watch"));
    header.appendChild(form);
  }
  var status = el("span", "status", "connecting…");
  status.id = "status";
  header.appendChild(status);
  var empty = el("div", "empty", "Waiting for commands…");
  empty.id = "empty";
  var tiles = el("div", "tiles");
  tiles.id = "tiles";
  [header, empty, tiles].forEach(function (c) { root.appendChild(c); });
  host.appendChild(root);
  function num(v) { return typeof v === "number" && isFinite(v) ? v : 0; }
  function stateOf(d) {
    if (d.propertyValue_circuitBreakerForceOpen) return ["open", "Forced open"];
    if (d.circuitState === "HALF_OPEN") return ["half-open", "Half-open"];
    if (d.circuitState === "OPEN") return ["open", "Open"];
    if (d.circuitState === "CLOSED") return ["closed", "Closed"];
    return d.isCircuitBreakerOpen ? ["open", "Open"] : ["closed", "Closed"];
  }
  function cells(box, pairs) {
    box.textContent = "";
    pairs.forEach(function (p) { box.appendChild(el("span", "", p[0])); box.appendChild(el("b", "", String(p[1]))); });
  }
  function line(values, max) {
    return values.map(function (v, i) {
      var x = values.length < 2 ? 0 : (i * 100) / (POINTS - 1);
      return x.toFixed(1) + "," + (36 - (v / (max || 1)) * 34).toFixed(1);
    }).join(" ");
  }
  function tile(name) {
    var t = seen[name];
    if (t) return t;
    var box = el("div", "tile");
    box.setAttribute("data-name", name);
    var head = el("div", "row");
    head.appendChild(el("h2", "", name));
    var state = el("span", "state");
    head.appendChild(state);
    var nums = el("div", "row");
    var err = el("span", "err");
    var rate = el("span", "rate");
    nums.appendChild(err);
    nums.appendChild(rate);
    var svg = doc.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 100 36");
    svg.setAttribute("preserveAspectRatio", "none");
    var pr = doc.createElementNS(svg.namespaceURI, "polyline");
    var pe = doc.createElementNS(svg.namespaceURI, "polyline");
    pr.setAttribute("class", "spark-rate");
    pe.setAttribute("class", "spark-err");
    svg.appendChild(pr);
    svg.appendChild(pe);
    var counts = el("div", "counts");
    var lat = el("div", "lat");
    [head, nums, svg, el("div", "legend", "blue: requests/s, red: error % (last 30 s)"), counts, lat].forEach(function (c) { box.appendChild(c); });
    t = seen[name] = { root: box, state: state, err: err, rate: rate, pr: pr, pe: pe, counts: counts, lat: lat, rates: [], errs: [] };
    var names = Object.keys(seen).sort();
    var next = seen[names[names.indexOf(name) + 1]];
    tiles.insertBefore(box, next ? next.root : null);
    empty.style.display = "none";
    return t;
  }
  function show(d) {
    if (d === null || typeof d !== "object" || d.type !== "HystrixCommand" || typeof d.name !== "string") return;
    var t = tile(d.name);
    var hosts = num(d.reportingHosts) || 1;
    var s = stateOf(d);
    t.root.className = "tile " + s[0];
    t.root.setAttribute("data-state", s[0]);
    t.state.textContent = s[1];
    var errPct = Math.round(num(d.errorPercentage) / hosts);
    var windowS = (num(d.propertyValue_metricsRollingStatisticalWindowInMilliseconds) || 10000) / 1000;
    var rate = num(d.requestCount) / windowS;
    t.err.textContent = errPct + " %";
    t.rate.textContent = (Math.round(rate * 10) / 10) + " req/s";
    cells(t.counts, [
      ["success", num(d.rollingCountSuccess)], ["failure", num(d.rollingCountFailure)],
      ["timeout", num(d.rollingCountTimeout)], ["short-circ.", num(d.rollingCountShortCircuited)],
      ["rejected", num(d.rollingCountSemaphoreRejected) + num(d.rollingCountThreadPoolRejected)],
      ["bad req.", num(d.rollingCountBadRequests)], ["fb ok", num(d.rollingCountFallbackSuccess)],
      ["fb fail", num(d.rollingCountFallbackFailure)]
    ]);
    var l = d.latencyExecute || {};
    cells(t.lat, [
      ["mean", Math.floor(num(d.latencyExecute_mean) / hosts) + "ms"], ["50th", num(l["50"]) + "ms"],
      ["90th", num(l["90"]) + "ms"], ["99th", num(l["99"]) + "ms"], ["99.5th", num(l["99.5"]) + "ms"]
    ]);
    t.rates.push(rate);
    t.errs.push(errPct);
    if (t.rates.length > POINTS) { t.rates.shift(); t.errs.shift(); }
    t.pr.setAttribute("points", line(t.rates, Math.max.apply(null, t.rates)));
    t.pe.setAttribute("points", line(t.errs, 100));
    t.seenAt = Date.now();
  }
  // Tiles of commands no frame has mentioned for 10 s go away.
  var pruner = setInterval(function () {
    Object.keys(seen).forEach(function (n) {
      if (Date.now() - seen[n].seenAt > 10000) { tiles.removeChild(seen[n].root); delete seen[n]; }
    });
  }, 2000);
  return {
    show: show,
    status: function (text) { status.textContent = text; },
    stop: function () { clearInterval(pruner); }
  };
}
