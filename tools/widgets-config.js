// Loaded between require.js and embed-amd.js on pages that show ipywidgets
// (see nb_ipywidgets_js in _config.yml; tools/fetch_web_assets.py copies this
// file to _static/widgets/config.js).
(function () {
  // 1. Fonts. embed-amd.js defines its modules by name and derives the URL of
  //    its icon fonts from each module's RequireJS URL. Without a mapping those
  //    URLs point below the page (book/@jupyter-widgets/...), where nothing
  //    exists. Map the two modules that carry fonts onto this folder.
  var script = document.currentScript;
  if (script && script.src && typeof window.require !== "undefined") {
    var dir = script.src.slice(0, script.src.lastIndexOf("/"));
    window.require.config({
      paths: {
        "@jupyter-widgets/html-manager": dir + "/html-manager",
        "@jupyter-widgets/html-manager/dist": dir,
      },
    });
  }

  // 2. Math in widget labels. The widget views typeset labels through the
  //    MathJax 2 call MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]);
  //    Sphinx loads MathJax 3, which has no Hub, so every label would throw.
  //    Provide a Hub.Queue that forwards to MathJax 3's typesetPromise. Only on
  //    pages that load MathJax (Sphinx then defines window.MathJax as a config
  //    object before this script runs; MathJax itself loads deferred, later).
  if (typeof window.MathJax !== "object" || window.MathJax === null) {
    return;
  }
  // Widget labels are plain text written with Jupyter's $...$ convention;
  // Sphinx's MathJax only knows \(...\) and only looks inside elements of
  // class mathjax_process (the page body is marked mathjax_ignore).
  function prepare(element) {
    if (element.childElementCount === 0 && element.textContent.indexOf("$") !== -1) {
      element.textContent = element.textContent
        .replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
        .replace(/\$([^$]+)\$/g, "\\($1\\)");
    }
    element.classList.add("mathjax_process");
  }
  function typeset(element, tries) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise.then(function () {
        return mj.typesetPromise([element]);
      }).catch(function () {});
    } else if (tries > 0) {
      setTimeout(function () { typeset(element, tries - 1); }, 100);
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          prepare(job[2]);
          typeset(job[2], 100);
        }
      }
    },
  };
  var config = window.MathJax;
  if (config.version) {
    // MathJax 3 already running
    config.Hub = config.Hub || hub;
    return;
  }
  // Still the configuration object: MathJax 3 replaces the global when it
  // starts, so install the shim on both sides of that moment.
  config.Hub = hub;
  config.startup = config.startup || {};
  var ready = config.startup.ready;
  config.startup.ready = function () {
    if (ready) {
      ready();
    } else {
      window.MathJax.startup.defaultReady();
    }
    window.MathJax.Hub = window.MathJax.Hub || hub;
  };
})();

// 3. Slider names for assistive technology. ipywidgets 8 draws a slider with
//    noUiSlider, whose handle (role="slider") gets no accessible name: the
//    description label beside it is not tied to it (axe rule
//    aria-input-field-name). Tie each handle to its label once the widget
//    manager has rendered it.
(function () {
  var count = 0;
  function name(root) {
    var handles = root.querySelectorAll(".widget-slider .noUi-handle[role=slider]");
    for (var i = 0; i < handles.length; i++) {
      var handle = handles[i];
      if (handle.hasAttribute("aria-labelledby") || handle.hasAttribute("aria-label")) continue;
      var slider = handle.closest(".widget-slider");
      var label = slider && slider.querySelector(".widget-label");
      if (!label || !label.textContent.trim()) continue;
      if (!label.id) label.id = "qnb-slider-label-" + count++;
      handle.setAttribute("aria-labelledby", label.id);
    }
  }
  function start() {
    name(document);
    new MutationObserver(function () { name(document); })
      .observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
