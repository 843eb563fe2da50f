"""The inference core: what Lambda and the HTTP service import (numpy and mmh3 only)."""
