/* katib-flows UI: the pages' script. Plain JavaScript, no build step, no dependency but the vendored
   plotly.js; every number and name comes from /api/v1/ and is written as text, never as markup. Pages poll
   every two seconds and redraw only what changed (the summary's version says when), without a reload. */
(function () {
  "use strict";
  var body = document.body;
  var root = body.dataset.root || "";
  var api = root + "/api/v1";
  var POLL_MS = 2000;
  var PLOT_CONFIG = { displaylogo: false, responsive: true };

  function $(id) { return document.getElementById(id); }

  function request(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    return fetch(url, options).then(function (response) {
      if (response.status === 401) {
        window.location.href = root + "/login";
        throw new Error("not logged in");
      }
      if (!response.ok) {
        return response.json().then(
          function (problem) { throw new Error(problem.detail || response.statusText); },
          function () { throw new Error(response.status + " " + response.statusText); }
        );
      }
      return response;
    });
  }
  function json(url) { return request(url).then(function (r) { return r.json(); }); }
  function act(method, url) { return request(url, { method: method, headers: { "X-Requested-With": "katib-flows-ui" } }); }

  function cell(row, value, className) {
    var td = row.insertCell();
    if (value instanceof Node) { td.appendChild(value); } else { td.textContent = value === null || value === undefined ? "" : String(value); }
    if (className) { td.className = className; }
    return td;
  }
  function link(href, label) { var a = document.createElement("a"); a.href = href; a.textContent = label; return a; }
  function number(value) { return value === null || value === undefined ? "" : Number(value).toPrecision(6).replace(/\.?0+$/, ""); }
  function when(text) { return text ? text.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC") : ""; }
  function quote(part) { return encodeURIComponent(part); }
  function experimentUrl(ns, name) { return root + "/experiments/" + quote(ns) + "/" + quote(name); }

  function live(ok) { var badge = $("live"); if (badge) { badge.classList.toggle("stale", !ok); badge.textContent = ok ? "live" : "retrying"; } }
  /** Runs refresh() now and every POLL_MS; one at a time, and the badge shows whether the last one worked. */
  function poll(refresh) {
    var busy = false;
    var timer = null;
    function tick() {
      if (busy) { return; }
      busy = true;
      refresh().then(function (stop) {
        live(true);
        if (stop === "stop" && timer !== null) { clearInterval(timer); }
      }, function (error) { live(false); console.warn("katib-flows: " + error.message); })
        .then(function () { busy = false; });
    }
    tick();
    timer = setInterval(tick, POLL_MS);
  }
  function plot(id, figure) {
    var div = $(id);
    div.hidden = false;
    return Plotly.react(div, figure.data, figure.layout, PLOT_CONFIG);
  }
  function status(target) {
    $("condition").textContent = target.condition;
    $("condition").className = target.condition;
    $("reason").textContent = target.reason ? "(" + target.reason + ")" : "";
    $("message").textContent = target.message || "";
  }

  /* -- all experiments ------------------------------------------------------------------------------ */
  function experimentsPage() {
    var select = $("namespace");
    json(api + "/namespaces").then(function (names) {
      names.forEach(function (ns) { var o = document.createElement("option"); o.textContent = ns; select.appendChild(o); });
    });
    function refresh() {
      var ns = select.value;
      return json(api + "/experiments" + (ns ? "?namespace=" + quote(ns) : "")).then(function (views) {
        var tbody = $("experiments").tBodies[0];
        tbody.textContent = "";
        views.forEach(function (v) {
          var row = tbody.insertRow();
          var best = v.currentOptimalTrial;
          cell(row, v.namespace);
          cell(row, link(experimentUrl(v.namespace, v.name), v.name));
          cell(row, v.status.condition, v.status.condition);
          cell(row, v.status.reason);
          cell(row, v.trials.total);
          cell(row, v.trials.succeeded);
          cell(row, v.trials.failed);
          cell(row, v.trials.running + v.trials.pending);
          cell(row, best ? number(best.objectiveValue) + " (" + best.bestTrialName + ")" : "");
          cell(row, when(v.startTime));
        });
        $("empty").hidden = views.length > 0;
      });
    }
    select.addEventListener("change", refresh);
    poll(refresh);
  }

  /* -- one experiment ------------------------------------------------------------------------------- */
  function experimentPage() {
    var ns = body.dataset.namespace, name = body.dataset.name;
    var base = api + "/namespaces/" + quote(ns) + "/experiments/" + quote(name);
    var parameters = JSON.parse(body.dataset.parameters);
    var table = { offset: 0, limit: 50, sort: "seq", order: "asc", q: "", status: "", total: 0 };
    var version = null;
    var selected = {};
    var terminal = false;

    function renderSummary(summary) {
      var v = summary.experiment;
      status(v.status);
      terminal = v.status.condition === "Succeeded" || v.status.condition === "Failed";
      $("stop").disabled = terminal || summary.stopRequested;
      $("stop").textContent = summary.stopRequested ? "Stop requested" : "Stop";
      var counters = $("counters");
      counters.textContent = "";
      [["total", v.trials.total], ["succeeded", v.trials.succeeded], ["failed", v.trials.failed],
        ["running", v.trials.running + v.trials.pending], ["early stopped", v.trials.earlyStopped],
        ["killed", v.trials.killed]].forEach(function (pair) {
        var card = document.createElement("div");
        var count = document.createElement("b");
        card.className = "card";
        count.textContent = pair[1];
        card.appendChild(count);
        card.appendChild(document.createTextNode(pair[0]));
        counters.appendChild(card);
      });
      var best = v.currentOptimalTrial;
      $("best").textContent = best
        ? "Best: " + best.bestTrialName + " = " + number(best.objectiveValue) + "  (" + (best.architecture
          ? best.architecture.summary
          : best.parameterAssignments.map(function (a) { return a.name + "=" + a.value; }).join(", ")) + ")"
        : "";
    }

    function loadFigures() {
      return json(base + "/figures").then(function (reply) {
        var shown = $("sampled");
        shown.hidden = reply.drawn === reply.completed;
        shown.textContent = "The plots show " + reply.drawn + " of " + reply.completed + " completed trials: every " +
          "trial that improved the best value, the best ones and an even sample of the rest.";
        return Promise.all(Object.keys(reply.figures).map(function (key) { return plot("plot-" + key, reply.figures[key]); }));
      });
    }

    /* Importance fits a model (seconds the first time): its own request, which the rest of the page never
       waits for; one at a time, asked again when the version moved on meanwhile. */
    var importance = { busy: false, wanted: null, drawn: null };
    function loadImportance() {
      if (importance.busy || importance.wanted === importance.drawn) { return; }
      var asked = importance.wanted;
      importance.busy = true;
      json(base + "/figures/importance").then(function (reply) {
        $("importance-wait").hidden = true;
        return plot("plot-importance", reply.figure);
      }).then(null, function (error) { console.warn("katib-flows: importance: " + error.message); })
        .then(function () { importance.drawn = asked; importance.busy = false; loadImportance(); });
    }

    function loadTrials() {
      var query = "?offset=" + table.offset + "&limit=" + table.limit + "&sort=" + quote(table.sort) + "&order=" + table.order;
      if (table.q) { query += "&q=" + quote(table.q); }
      if (table.status) { query += "&status=" + quote(table.status); }
      return request(base + "/trials" + query).then(function (response) {
        table.total = Number(response.headers.get("X-Total-Count") || 0);
        return response.json();
      }).then(renderTrials);
    }

    function renderTrials(views) {
      var tbody = $("trials").tBodies[0];
      tbody.textContent = "";
      views.forEach(function (t) {
        var row = tbody.insertRow();
        var values = {};
        t.parameterAssignments.forEach(function (a) { values[a.name] = a.value; });
        if (t.architecture) { values.architecture = t.architecture.summary; }  /* a NAS trial, in words */
        var box = document.createElement("input");
        box.type = "checkbox";
        box.checked = Boolean(selected[t.name]);
        box.title = "compare this trial's metric curves";
        box.addEventListener("change", function () {
          if (box.checked) { selected[t.name] = true; } else { delete selected[t.name]; }
          $("compare").disabled = Object.keys(selected).length === 0;
        });
        cell(row, box);
        cell(row, link(experimentUrl(ns, name) + "/trials/" + quote(t.name), t.name));
        cell(row, t.status, t.status);
        cell(row, number(t.objectiveValue));
        parameters.forEach(function (p) { cell(row, values[p]); });
        cell(row, t.reason);
        cell(row, when(t.completionTime));
      });
      var last = Math.min(table.offset + table.limit, table.total);
      $("page").textContent = table.total ? (table.offset + 1) + "–" + last + " of " + table.total : "no trial matches";
      $("prev").disabled = table.offset === 0;
      $("next").disabled = last >= table.total;
    }

    function refresh() {
      return json(base + "/summary").then(function (summary) {
        renderSummary(summary);
        if (summary.version === version) { return null; }
        version = summary.version;
        return Promise.all([loadFigures(), loadTrials()]).then(function () {
          importance.wanted = version;
          loadImportance();
        });
      });
    }

    var typing = null;
    $("filter").addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(function () { table.q = $("filter").value.trim(); table.offset = 0; loadTrials(); }, 250);
    });
    $("status").addEventListener("change", function () { table.status = $("status").value; table.offset = 0; loadTrials(); });
    $("prev").addEventListener("click", function () { table.offset = Math.max(0, table.offset - table.limit); loadTrials(); });
    $("next").addEventListener("click", function () { table.offset += table.limit; loadTrials(); });
    Array.prototype.forEach.call(document.querySelectorAll("#trials th[data-sort]"), function (th) {
      th.addEventListener("click", function () {
        var same = table.sort === th.dataset.sort;
        table.order = same && table.order === "asc" ? "desc" : "asc";
        table.sort = th.dataset.sort;
        document.querySelectorAll("#trials th").forEach(function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(table.order);
        table.offset = 0;
        loadTrials();
      });
    });
    $("compare").addEventListener("click", function () {
      var names = Object.keys(selected);
      json(base + "/curves?" + names.map(function (n) { return "trial=" + quote(n); }).join("&"))
        .then(function (figure) { plot("plot-curves", figure); });
    });
    $("stop").addEventListener("click", function () {
      if (!window.confirm("Stop " + ns + "/" + name + "? Running trials are stopped and do not count; " +
        "`katib-flows resume " + name + "` continues it.")) { return; }
      act("POST", base + "/stop").then(function () {
        $("action-result").textContent = "Stop requested: the run stops its trials within a few seconds.";
        version = null;
      }, function (error) { $("action-result").textContent = error.message; });
    });
    $("delete").addEventListener("click", function () {
      if (!window.confirm("Delete " + ns + "/" + name + " with all its trials, metrics and logs? This cannot be undone.")) { return; }
      act("DELETE", base).then(function () { window.location.href = root + "/"; },
        function (error) { $("action-result").textContent = error.message; });
    });
    request(base + "/spec?format=yaml").then(function (r) { return r.text(); }).then(function (text) { $("spec").textContent = text; });
    poll(refresh);
  }

  /* -- one trial ------------------------------------------------------------------------------------ */
  function trialPage() {
    var ns = body.dataset.namespace, name = body.dataset.name, trial = body.dataset.trial;
    var base = api + "/namespaces/" + quote(ns) + "/experiments/" + quote(name);
    var url = base + "/trials/" + quote(trial);
    var count = -1;
    function refresh() {
      return json(url).then(function (t) {
        status({ condition: t.status, reason: t.reason, message: t.message });
        var params = $("parameters").tBodies[0];
        params.textContent = "";
        if (t.architecture) {
          t.architecture.layers.forEach(function (l) { var row = params.insertRow(); cell(row, "layer " + l.layer); cell(row, l.description.replace(/^layer \d+: /, "")); });
        }
        t.parameterAssignments.forEach(function (a) { var row = params.insertRow(); cell(row, a.name); cell(row, a.value, t.architecture ? "raw" : null); });
        var metrics = $("metrics").tBodies[0];
        metrics.textContent = "";
        t.metrics.forEach(function (m) { var row = metrics.insertRow(); cell(row, m.name); cell(row, m.min); cell(row, m.max); cell(row, m.latest); });
        $("started").textContent = when(t.startTime);
        $("completed").textContent = when(t.completionTime);
        var done = t.status !== "Created" && t.status !== "Running";
        return json(url + "/observations").then(function (reply) {
          var logs = reply.observationLog.metricLogs;
          var tbody = $("observations").tBodies[0];
          tbody.textContent = "";
          logs.forEach(function (log) {
            var row = tbody.insertRow();
            cell(row, when(log.timeStamp)); cell(row, log.step); cell(row, log.metric.name); cell(row, log.metric.value);
          });
          var changed = logs.length !== count;
          count = logs.length;
          return Promise.all([
            changed ? json(base + "/curves?trial=" + quote(trial)).then(function (f) { return plot("plot-curves", f); }) : null,
            request(url + "/logs?optional=true").then(function (r) { return r.text(); }, function (e) { return "(" + e.message + ")"; })
              .then(function (text) { $("output").textContent = text || "(no output kept on the UI's machine)"; })
          ]);
        }).then(function () { return done ? "stop" : null; });
      });
    }
    poll(refresh);
  }

  var pages = { experiments: experimentsPage, experiment: experimentPage, trial: trialPage };
  if (pages[body.dataset.page]) { pages[body.dataset.page](); }
})();
