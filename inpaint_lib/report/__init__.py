"""The report's builders: what turns scores into the report a reader sees.

- `tables`: report tables as pure functions (a long DataFrame of scores in, a DataFrame out);
- `figures`: figures in one style, as pure functions (data in, a matplotlib Figure out);
- `prose`: the generated sentences, a module per part of the report;
- `show`: how notebooks display things (the only module that talks to IPython);
- `conclusions`: the conclusions notebook's scores, from the run and evaluation caches;
- `execute`: papermill's command line, as the Makefile runs each notebook;
- `build`: the executed notebooks of a profile assembled into one HTML report;
- `publish`: the committed copy of a rendered report.
"""
