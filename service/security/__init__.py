"""Transport-level protections: security headers, CORS, rate limits, log redaction; and Idempotency-Key
support.

`install_security(app, settings)` is called once from `service.main.create_app`.
"""

from service.security.install import install_security

__all__ = ["install_security"]
