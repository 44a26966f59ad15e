"""Vendor plugins: each talks to one vendor through its official SDK (or httpx).

Vendor knowledge (SDK exceptions, key formats, prices, protocols) lives here
and reaches the kernel through hooks (``classify_error``, ``secret_patterns``,
``estimate_cost``); the kernel itself names no vendor.
"""
