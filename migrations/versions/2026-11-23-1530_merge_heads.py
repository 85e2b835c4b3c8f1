"""Merge the batch, privacy/audit and proposals branches into one head.

Revision ID: 0700_merge
Revises: 0400_batch, 0500_privacy, 0600_proposals
Create Date: 2026-11-23 15:30:00
"""

from __future__ import annotations

revision = "0700_merge"
down_revision = ("0400_batch", "0500_privacy", "0600_proposals")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the three branches touch separate tables."""


def downgrade() -> None:
    """Nothing to change: downgrading splits the head into the three branches again."""
