"""prodsearch: multimodal product search. The console entry point lives in `prodsearch.cli`."""

__version__ = "0.1.0"
