"""GDPR: the data subject's copy (art. 15), erasure that keeps person-free counts (art. 17), retention."""
