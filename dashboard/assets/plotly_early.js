/* plotly.js fetched and run once, while the page is idle, before a chart asks for it (issue 18, item 8).
 *
 * dcc.Graph loads plotly.js (4.8 MB; 1.3 MB brotli) the first time a chart is drawn: a page opened
 * on a tab without one (Voices, Outages, a shared link) waited for the download and for plotly to run
 * at the first chart (2.4-3.5 s on the demo). Here it is loaded once the page has settled (see
 * whenSettled); on the Overview its chart usually asks first, and this does nothing. Either way
 * plotly.js is fetched once (checked in Chromium on /, ?tab=voices and ?tab=outages). dcc.Graph
 * takes `window.Plotly` when it is set, and `Promise.resolve` waits on it when it is a thenable, so
 * while the script is loading `window.Plotly` is a promise of it: a chart opened meanwhile waits for
 * this one download rather than starting a second. Once loaded, one small chart is drawn off screen
 * and thrown away (see warmUp).
 */
(function () {
  "use strict";

  function load() {
    var url = window._dashPlotlyJSURL;
    if (window.Plotly || !url) {
      return;
    }
    var pending = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = function () {
        resolve(window.Plotly);
        whenIdle(warmUp);
      };
      script.onerror = function (error) {
        if (window.Plotly === pending) {
          window.Plotly = undefined;  // dcc.Graph then loads it itself
        }
        reject(error);
      };
      document.head.appendChild(script);
    });
    pending.catch(function () { return null; });
    window.Plotly = pending;
  }

  /* One small chart of the timeline's kinds (lines, markers, a band, bars on a second axis), drawn
   * off screen and thrown away: the first chart a page draws runs plotly's code for the first
   * time, which took about as long again as drawing it. */
  function warmUp() {
    var Plotly = window.Plotly;
    if (!Plotly || !Plotly.newPlot) {
      return;
    }
    var box = document.createElement("div");
    box.setAttribute("aria-hidden", "true");
    box.style.cssText = "position:absolute;left:-10000px;top:0;width:600px;height:300px;";
    document.body.appendChild(box);
    var x = ["2026-01-01 00:00", "2026-01-01 01:00", "2026-01-01 02:00"];
    Plotly.newPlot(box, [
      {type: "scatter", mode: "lines", x: x, y: [0, 0.2, 0.1]},
      {type: "scatter", mode: "lines", fill: "tonexty", x: x, y: [0.1, 0.3, 0.2]},
      {type: "scatter", mode: "markers", x: x, y: [0, 0.1, 0.2], marker: {size: [4, 6, 8]}},
      {type: "bar", x: x, y: [3, 4, 5], xaxis: "x2", yaxis: "y2"}
    ], {
      xaxis: {type: "date", domain: [0, 1], anchor: "y"}, yaxis: {domain: [0.4, 1]},
      xaxis2: {type: "date", matches: "x", anchor: "y2"}, yaxis2: {domain: [0, 0.3]},
      shapes: [{type: "rect", xref: "x", yref: "paper", x0: x[0], x1: x[1], y0: 0, y1: 1}],
      annotations: [{text: "warm", x: x[1], y: 0.2}]
    }, {staticPlot: true}).then(function () {
      Plotly.purge(box);
      box.remove();
    }, function () {
      box.remove();
    });
  }

  function whenIdle(run) {
    if (window.requestIdleCallback) {
      window.requestIdleCallback(run, {timeout: 3000});
    } else {
      window.setTimeout(run, 500);
    }
  }

  /* After the page has settled (drawn, no component loading for half a second) and the browser is
   * idle: run on every page load, plotly.js competed with the page's own callbacks and rendering
   * (the Overview at 1,000,000 posts settled 0.5 s later). A pointer over the tabs, or focus on
   * them, starts it at once: a click on Timeline is then a few hundred milliseconds away. */
  function whenSettled(run) {
    var quiet = 0;
    var timer = window.setInterval(function () {
      var drawn = document.querySelector(".tab-container");
      var busy = !drawn || document.querySelector("[data-dash-is-loading='true']");
      quiet = busy ? 0 : quiet + 1;
      if (quiet >= 2) {
        window.clearInterval(timer);
        whenIdle(run);
      }
    }, 250);
  }

  document.addEventListener("pointerover", function (event) {
    if (event.target instanceof Element && event.target.closest(".tab-container")) {
      load();
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target instanceof Element && event.target.closest(".tab-container")) {
      load();
    }
  });
  whenSettled(load);
})();
