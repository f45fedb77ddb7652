/* newsmirror site search: reads the index the build writes beside this file (search/data/).
   No server, no framework, no tracking. Index files are scripts that call newsmirrorSearch(),
   so the search also works from a folder opened from disk (file://), where fetch() is refused.
   Every path in the index is a site path; links are resolved against this script's address,
   so the same files serve every mirror, with or without a path prefix. Words are split and
   folded exactly as newsmirror/search.py does it; the last word also matches as a prefix. */
(function () {
  "use strict";

  var script = document.currentScript;
  var here = new URL(script.src, document.baseURI);
  var root = new URL("../", here);       // the mirror's base: search.js is at search/search.js
  var data = new URL("data/", here);
  // as search.py: letters, digits, joiners and the first plane's marks (newsmirror/search.py)
  var WORD = /(?:[\p{L}\p{N}\u200c\u200d]|(?![\u{10000}-\u{10FFFF}])\p{M})+/gu;
  var DROPPED = /[\p{M}\u200c\u200d]/gu;
  var PER_SCREEN = 10;
  var BITS = [[8, 10], [4, 5], [2, 3], [1, 1]];   // title, tags/authors/section, summary, body
  var loaded = {};
  var loading = {};

  window.newsmirrorSearch = function (name, value) {
    loaded[name] = value;
  };

  function load(name) {
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = new URL(name + ".js", data).href;
        tag.onload = function () {
          if (name in loaded) { resolve(loaded[name]); } else { reject(new Error(name)); }
        };
        tag.onerror = function () { reject(new Error(name)); };
        document.head.appendChild(tag);
      });
    }
    return loading[name];
  }

  function fold(word) {
    return word.toLowerCase().normalize("NFKD").replace(DROPPED, "")
      .replace(/[\u064a\u0649]/g, "\u06cc").replace(/\u0643/g, "\u06a9");
  }

  function words(query) {
    var out = [];
    (query.toLowerCase().match(WORD) || []).forEach(function (raw) {
      var term = fold(raw);
      if (term && out.indexOf(term) < 0) { out.push(term); }
    });
    return out;
  }

  function shardOf(term, key) {
    var bytes = new TextEncoder().encode(Array.from(term).slice(0, key).join(""));
    return "t-" + Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function postings(entry, into) {
    var number = 0;
    entry[0].forEach(function (delta, i) {
      number += delta;
      into.set(number, (into.get(number) || 0) | entry[1][i]);
    });
    return into;
  }

  function score(mask) {
    return BITS.reduce(function (sum, bit) { return sum + (mask & bit[0] ? bit[1] : 0); }, 0);
  }

  /* Return [[document number, score], ...], best first, then newest (the highest number) first,
     for every document having all words. */
  function match(terms, prefix, meta) {
    var names = terms.map(function (term) { return shardOf(term, meta.key); });
    if (names.some(function (n) { return meta.shards.indexOf(n) < 0; })) {
      return Promise.resolve([]);
    }
    return Promise.all(names.map(load)).then(function (shards) {
      var total = null;
      terms.forEach(function (term, i) {
        var found = new Map();
        var shard = shards[i];
        var last = i === terms.length - 1;
        if (last && prefix) {
          Object.keys(shard).forEach(function (known) {
            if (known.startsWith(term)) { postings(shard[known], found); }
          });
        } else if (Object.prototype.hasOwnProperty.call(shard, term)) {
          postings(shard[term], found);
        }
        var next = new Map();
        found.forEach(function (mask, number) {
          if (total === null || total.has(number)) { next.set(number, (total ? total.get(number) : 0) + score(mask)); }
        });
        total = next;
      });
      return Array.from(total || []).sort(function (a, b) { return b[1] - a[1] || b[0] - a[0]; });
    });
  }

  function documents(numbers, meta) {
    var chunks = [];
    numbers.forEach(function (n) {
      var name = "d-" + Math.floor(n / meta.chunk);
      if (chunks.indexOf(name) < 0) { chunks.push(name); }
    });
    return Promise.all(chunks.map(load)).then(function () {
      return numbers.map(function (n) { return loaded["d-" + Math.floor(n / meta.chunk)][n % meta.chunk]; });
    });
  }

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function result(doc, indexLinks, siteLanguage) {
    var path = doc[0];
    var item = element("li", "search-result");
    if (doc[6] !== siteLanguage) { item.lang = doc[6]; item.dir = doc[7]; }
    var card = element("article", "card card-row");
    var body = element("div", "card-body");
    body.appendChild(element("p", "kicker", doc[2]));
    var heading = element("h2", "card-title");
    var link = element("a", "", doc[1]);
    link.href = new URL(indexLinks && (path === "" || path.endsWith("/")) ? path + "index.html" : path, root).href;
    heading.appendChild(link);
    body.appendChild(heading);
    if (doc[5]) { body.appendChild(element("p", "card-summary", doc[5])); }
    var meta = element("p", "card-meta");
    var time = element("time", "", doc[4]);
    time.dateTime = doc[3];
    meta.appendChild(time);
    body.appendChild(meta);
    card.appendChild(body);
    item.appendChild(card);
    return item;
  }

  function start() {
    var box = document.getElementById("search");
    if (!box) { return; }
    var input = box.querySelector("input[name=q]");
    var status = box.querySelector(".search-status");
    var list = box.querySelector(".search-results");
    var more = box.querySelector(".search-more");
    // link('') names index.html on a mirror whose links must work without index documents
    var indexLinks = /\/index\.html$/.test(new URL(box.dataset.home, document.baseURI).pathname);
    var siteLanguage = document.documentElement.lang;
    var current = 0;
    var hits = [];
    var shown = 0;

    function show(meta, run) {
      var batch = hits.slice(shown, shown + PER_SCREEN).map(function (h) { return h[0]; });
      return documents(batch, meta).then(function (docs) {
        if (run !== current) { return; }
        docs.forEach(function (doc) { list.appendChild(result(doc, indexLinks, siteLanguage)); });
        shown += docs.length;
        more.hidden = shown >= hits.length;
      });
    }

    function search(query) {
      var run = ++current;
      var terms = words(query);
      list.textContent = "";
      more.hidden = true;
      hits = [];
      shown = 0;
      if (!terms.length) {
        status.textContent = query.trim() ? "Type a word with letters or digits." : "";
        return;
      }
      status.textContent = "Searching\u2026";
      // a last word still being typed also matches longer words, once it fills a shard key
      var open = /[\p{L}\p{N}\p{M}]$/u.test(query);
      var meta;
      load("meta").then(function (m) {
        meta = m;
        return match(terms, open && Array.from(terms[terms.length - 1]).length >= meta.key, meta);
      }).then(function (found) {
        if (run !== current) { return; }
        hits = found;
        var quoted = "\u201c" + query.trim() + "\u201d";
        status.textContent = found.length
          ? found.length + (found.length === 1 ? " result" : " results") + " for " + quoted
          : "No results for " + quoted + ". Check the spelling, or try fewer or other words.";
        return found.length ? show(meta, run) : null;
      }).catch(function () {
        if (run === current) { status.textContent = "The search index could not be loaded. Please try again later."; }
      });
    }

    more.addEventListener("click", function () { load("meta").then(function (m) { return show(m, current); }); });
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        search(input.value);
        try {
          history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
        } catch (e) {
          // a page opened from disk may not change its address: the results still show
        }
      }, 250);
    });
    var query = new URLSearchParams(location.search).get("q") || "";
    input.value = query;
    search(query);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
