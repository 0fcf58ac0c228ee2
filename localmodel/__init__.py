"""A real OpenAI-compatible model server (llama.cpp's, built from PyPI) with a small Apache-2.0 model, for tests."""

from ticket_enricher.localmodel.server import LocalModelServer, ModelServerFiles, ensure_model_server, fetched

__all__ = ["LocalModelServer", "ModelServerFiles", "ensure_model_server", "fetched"]
