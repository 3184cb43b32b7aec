"""LSP front-end: pygls handlers over the core, one module per feature."""
