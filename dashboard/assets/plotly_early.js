/* plotly.js fetched and run once, while the page is idle, before a chart asks for it (issue 18, item 8).
 *
 * dcc.Graph loads plotly.js (4.8 MB; 1.3 MB brotli) the first time a chart is drawn, which the
 * Overview has none of: the first Timeline open waited for the download and for plotly to run
 * (2.4-3.5 s on the demo). Here it is loaded as soon as the page is idle after loading. dcc.Graph
 * takes `window.Plotly` when it is set, and `Promise.resolve` waits on it when it is a thenable, so
 * while the script is loading `window.Plotly` is a promise of it: a chart opened meanwhile waits for
 * this one download rather than starting a second.
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

  function whenIdle() {
    if (window.requestIdleCallback) {
      window.requestIdleCallback(load, {timeout: 3000});
    } else {
      window.setTimeout(load, 500);
    }
  }

  if (document.readyState === "complete") {
    whenIdle();
  } else {
    window.addEventListener("load", whenIdle);
  }
})();
