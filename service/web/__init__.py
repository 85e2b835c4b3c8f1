"""The coach's web page: server-rendered Dutch HTML on top of the same operations as the API."""
