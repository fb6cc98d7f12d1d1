/* Back and Forward between tabs of one view.
 *
 * A tab opened is written into the address with pushState (dashboard/callbacks/page.py), where
 * dcc.Location does not see it. On Back, Location compares the address with the one it last held
 * and tells the page only when they differ; Back to that very address (the tab the page was opened
 * on) changed nothing it could see, and the page stayed on the later tab. Here the tab the address
 * names is selected whenever the browser moves in its history; selecting the tab already shown
 * does nothing.
 */
(function () {
  "use strict";
  // dashboard.state.TABS, in the order the tabs are laid out.
  var TABS = ["overview", "timeline", "voices", "outages", "compare"];

  window.addEventListener("popstate", function () {
    var wanted = new URLSearchParams(window.location.search).get("tab") || TABS[0];
    var at = TABS.indexOf(wanted);
    var tabs = document.querySelectorAll("#tabs .tab");
    if (at < 0 || at >= tabs.length || tabs[at].classList.contains("tab--selected")) {
      return;
    }
    tabs[at].click();
  });
})();
