/* Keyboard access and names for the parts Dash 4 renders without them (issue 18, item 6).
 *
 * Dash serves every file in dashboard/assets/ with the page. Each pass below only sets an attribute
 * when it differs, so the observer that re-runs it after React renders settles at once.
 *
 * - dcc.Tabs: divs that Tab never reached. Made an ARIA tablist: the selected tab is in the Tab order,
 *   Left/Right/Home/End move between tabs and open them, Enter and Space open the focused one.
 * - dcc.Dropdown: focus went to an aria-hidden, focus-forwarding input (axe: aria-hidden-focus). The
 *   dropdown's own button (which opens on Enter or ArrowDown) takes the Tab stop instead, named by its
 *   <label> and its value.
 * - dcc.RadioItems: a listbox of options each holding a radio (axe: nested-interactive, unnamed
 *   listbox). Made a named radiogroup of plain native radios, which arrow keys already operate.
 * - DataTable: icon-only page buttons and the page number get names, the sort icons become buttons,
 *   the row-selection radios are named after their row.
 * - Plotly's modebar: its buttons are links without href, which the keyboard skipped.
 * - The Timeline chart: a click on a point opens its time step's posts in Voices. With the chart
 *   focused, Left/Right move along the line's points in view (Home/End: the first and last), showing
 *   each point's label and saying it in a live region; Enter or Space opens that step, as a click
 *   does (plotly_click with the points plotly's own hover found).
 */
(function () {
  "use strict";

  function set(el, name, value) {
    if (el.getAttribute(name) !== value) {
      el.setAttribute(name, value);
    }
  }

  function unset(el, name) {
    if (el.hasAttribute(name)) {
      el.removeAttribute(name);
    }
  }

  function labelOf(el) {
    var label = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!label) {
      var holder = el.closest("div");
      label = holder && holder.parentElement && holder.parentElement.querySelector(":scope > label");
    }
    return label;
  }

  function labelId(label, fallback) {
    if (!label.id) {
      label.id = fallback + "-label";
    }
    return label.id;
  }

  function tabs(root) {
    root.querySelectorAll(".tab-container").forEach(function (list) {
      set(list, "role", "tablist");
      set(list, "aria-label", "Views");
      list.querySelectorAll(":scope > .tab").forEach(function (tab) {
        var selected = tab.classList.contains("tab--selected");
        set(tab, "role", "tab");
        set(tab, "aria-selected", selected ? "true" : "false");
        set(tab, "tabindex", selected ? "0" : "-1");
      });
    });
  }

  function dropdowns(root) {
    root.querySelectorAll(".dash-dropdown-wrapper").forEach(function (wrapper) {
      var proxy = wrapper.querySelector(":scope > .dash-dropdown-focus-target");
      var button = wrapper.querySelector(":scope > button.dash-dropdown");
      if (!button) {
        return;
      }
      if (proxy) {
        set(proxy, "tabindex", "-1");
      }
      set(button, "tabindex", button.disabled ? "-1" : "0");
      var label = labelOf(button);
      if (label) {
        var ids = labelId(label, button.id) + " " + button.id + "-value";
        set(button, "aria-labelledby", ids);
      }
    });
  }

  function radios(root) {
    root.querySelectorAll(".dash-radioitems[role=listbox]").forEach(function (group) {
      set(group, "role", "radiogroup");
    });
    root.querySelectorAll(".dash-radioitems[role=radiogroup]").forEach(function (group) {
      var label = labelOf(group);
      if (label) {
        set(group, "aria-labelledby", labelId(label, group.id));
      }
      group.querySelectorAll("label.dash-options-list-option").forEach(function (option) {
        unset(option, "role");
        unset(option, "aria-selected");
      });
    });
  }

  var PAGE_BUTTONS = {"first-page": "First page", "previous-page": "Previous page",
                      "next-page": "Next page", "last-page": "Last page"};

  function tables(root) {
    root.querySelectorAll(".previous-next-container button").forEach(function (button) {
      Object.keys(PAGE_BUTTONS).forEach(function (name) {
        if (button.classList.contains(name)) {
          set(button, "aria-label", PAGE_BUTTONS[name]);
        }
      });
    });
    root.querySelectorAll(".previous-next-container input.current-page").forEach(function (input) {
      set(input, "aria-label", "Page number");
    });
    root.querySelectorAll(".dash-spreadsheet th .column-header--sort").forEach(function (sort) {
      var header = sort.closest("th");
      var name = header ? header.textContent.trim() : "";
      set(sort, "role", "button");
      set(sort, "tabindex", "0");
      set(sort, "aria-label", "Sort by " + name);
    });
    root.querySelectorAll("td.dash-select-cell input").forEach(function (input) {
      var row = input.closest("tr");
      var first = row && row.querySelector("td.dash-cell");
      set(input, "aria-label", "Select row " + (first ? first.textContent.trim() : ""));
    });
    root.querySelectorAll("th.expanded-row--empty-cell").forEach(function (cell) {
      set(cell, "aria-label", "Select");
    });
  }

  function modebars(root) {
    root.querySelectorAll(".modebar-btn").forEach(function (button) {
      set(button, "role", "button");
      set(button, "tabindex", "0");
      var title = button.getAttribute("data-title");
      if (title) {
        set(button, "aria-label", title);
      }
    });
  }

  var CHART = "#timeline-graph";
  var CHART_HELP = "Timeline chart. Left and Right arrows choose a time step, Home and End the first " +
                   "and last in view; Enter reads its posts in Voices.";

  function charts(root) {
    root.querySelectorAll(CHART).forEach(function (graph) {
      set(graph, "tabindex", "0");
      set(graph, "role", "group");
      set(graph, "aria-label", CHART_HELP);
    });
  }

  function chartTrace(gd) {
    // The share line where there is one (the tone's line otherwise): the top panel's traces with a
    // hover label and more than one point.
    var lines = [];
    (gd.data || []).forEach(function (trace, i) {
      if (trace.hovertemplate && trace.x && trace.x.length > 1 && (trace.xaxis || "x") === "x") {
        lines.push(i);
      }
    });
    var share = lines.filter(function (i) { return /^% of posts negative/.test(gd.data[i].name || ""); });
    return share.length ? share[0] : (lines.length ? lines[0] : -1);
  }

  function epoch(x) {
    var text = String(x).replace(" ", "T");
    return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : text + "Z");
  }

  function announce(text) {
    var live = document.getElementById("chart-live");
    if (!live) {
      live = document.createElement("div");
      live.id = "chart-live";
      live.setAttribute("aria-live", "polite");
      live.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);";
      document.body.appendChild(live);
    }
    live.textContent = text;
  }

  function moveChart(graph, key) {
    var gd = graph.querySelector(".js-plotly-plot");
    var curve = gd ? chartTrace(gd) : -1;
    if (curve < 0 || !window.Plotly || !window.Plotly.Fx || !gd._fullData[curve]) {
      return;
    }
    var range = (gd._fullLayout.xaxis || {}).range || [];
    var low = epoch(range[0]), high = epoch(range[1]);
    var xs = gd.data[curve].x, ys = gd._fullData[curve].y;  // y decoded from its typed-array form
    var shown = [];
    xs.forEach(function (x, i) {
      var at = epoch(x);
      // A point in a gap (no posts) has no value: the arrows pass over it.
      if (!(at < low) && !(at > high) && Number.isFinite(Number(ys[i]))) {
        shown.push(i);
      }
    });
    if (!shown.length) {
      return;
    }
    var at = shown.indexOf(gd.keyboardPoint);
    var step = {ArrowRight: 1, ArrowLeft: -1}[key];
    var next = key === "Home" ? 0 : key === "End" ? shown.length - 1
      : at < 0 ? (step > 0 ? 0 : shown.length - 1) : Math.min(Math.max(at + step, 0), shown.length - 1);
    var point = shown[next];
    gd.keyboardPoint = point;
    // The label as a pointer shows it (plotly throttles hovers to one per 50 ms and shows the last).
    window.Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: point}]);
    announce(String(xs[point]).slice(0, 16).replace("T", " ") + " UTC: " +
             Math.round(Number(ys[point]) * 10) / 10 + " (" + gd.data[curve].name + ")");
  }

  function chooseChart(graph) {
    var gd = graph.querySelector(".js-plotly-plot");
    var curve = gd ? chartTrace(gd) : -1;
    var point = gd ? gd.keyboardPoint : undefined;
    if (curve >= 0 && point !== undefined) {
      // What a click on that point sends: the server reads the step from the point's x.
      gd.emit("plotly_click", {points: [{curveNumber: curve, pointNumber: point, x: gd.data[curve].x[point],
                                         y: Number(gd._fullData[curve].y[point])}],
                               event: new MouseEvent("click")});
    }
  }

  function pass() {
    scheduled = false;
    charts(document);
    tabs(document);
    dropdowns(document);
    radios(document);
    tables(document);
    modebars(document);
  }

  var scheduled = false;

  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(pass);
    }
  }

  function moveTab(tab, key) {
    var all = Array.prototype.slice.call(tab.parentElement.querySelectorAll(":scope > .tab"));
    var at = all.indexOf(tab);
    var next = {ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1}[key];
    var target = all[(next + all.length) % all.length];
    target.click();
    target.focus();
  }

  document.addEventListener("keydown", function (event) {
    var el = event.target;
    if (!(el instanceof Element)) {
      return;
    }
    var activate = event.key === "Enter" || event.key === " ";
    if (el.matches(".tab-container > .tab")) {
      if (activate) {
        event.preventDefault();
        el.click();
      } else if (["ArrowRight", "ArrowLeft", "Home", "End"].indexOf(event.key) >= 0) {
        event.preventDefault();
        moveTab(el, event.key);
      }
    } else if (el.matches(CHART)) {
      if (activate) {
        event.preventDefault();
        chooseChart(el);
      } else if (["ArrowRight", "ArrowLeft", "Home", "End"].indexOf(event.key) >= 0) {
        event.preventDefault();
        moveChart(el, event.key);
      }
    } else if (activate && el.matches(".column-header--sort, .modebar-btn")) {
      event.preventDefault();
      el.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true}));
    }
  });

  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true,
    attributeFilter: ["class", "tabindex", "role", "aria-selected"]
  });
  schedule();
})();
