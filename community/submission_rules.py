"""Content submissions' rules as community.toml's [submissions] writes them: the categories
members submit to and what each pays on approval, the limits, the review queue's digest (what
a submission earns on top is in [earning] submission's caps and [ambassadors])."""

from __future__ import annotations

from pydantic import Field, model_validator

from loyalty.rules import LocalNames, Strict

# What a category asks for: any content, or a file of one kind (a purchase photo).
NEEDS = ("any", "photo", "video", "file")
# Why a reviewer may reject, as buttons (templates/*/ugc/_reasons.j2 words them); a reviewer
# may also type a reason of their own.
REJECT_REASONS = ("off_topic", "low_quality", "not_original", "duplicate", "rules")


class SubmissionCategory(Strict):
    """One category of [[submissions.categories]]: what members type, what it pays."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")  # stored with each submission
    names: LocalNames
    # Other words members may type for it (the names and the key are always understood).
    aliases: tuple[str, ...] = Field(default=(), max_length=10, strict=False)
    points: int = Field(default=30, ge=0, le=100_000)  # paid on approval (before multipliers)
    needs: str = Field(default="any", pattern=r"^(any|photo|video|file)$")


def _default_categories() -> tuple[SubmissionCategory, ...]:
    return (
        SubmissionCategory(
            key="purchase",
            names=LocalNames(en="Purchase photo", zh_CN="晒单"),
            aliases=("show", "order"),
            points=30,
            needs="photo",
        ),
        SubmissionCategory(
            key="review", names=LocalNames(en="Review", zh_CN="评测"), aliases=("测评",), points=50
        ),
        SubmissionCategory(
            key="post", names=LocalNames(en="Post", zh_CN="图文"), aliases=("图文分享",), points=20
        ),
        SubmissionCategory(
            key="video", names=LocalNames(en="Video", zh_CN="视频"), points=60, needs="video"
        ),
    )


class SubmissionRules(Strict):
    """How members submit content and how it is reviewed."""

    categories: tuple[SubmissionCategory, ...] = Field(
        default_factory=_default_categories, min_length=1, max_length=20, strict=False
    )
    per_day: int = Field(default=5, ge=1, le=100)  # submissions per member per local day
    max_text: int = Field(default=2000, ge=10, le=4000)  # characters of a submission's text
    max_links: int = Field(default=5, ge=0, le=20)  # links in one submission
    max_link_length: int = Field(default=500, ge=20, le=2000)  # characters of one link
    max_files: int = Field(default=4, ge=1, le=10)  # files in one submission
    # Bytes of one file kept (the adapter fetches at most ATTACHED_FILE_MAX_BYTES, bot/settings.py).
    max_file_bytes: int = Field(default=5_000_000, ge=10_000, le=20_000_000)
    # The kinds of file taken, by MIME type ("image/*" takes every image).
    file_types: tuple[str, ...] = Field(
        default=(
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/gif",
            "video/mp4",
            "video/quicktime",
        ),
        min_length=1,
        max_length=30,
        strict=False,
    )
    # New submissions are told to reviewers privately at most this often, as one digest.
    digest_minutes: int = Field(default=30, ge=1, le=1440)
    # The reasons offered as buttons on /review (a subset of REJECT_REASONS).
    reject_reasons: tuple[str, ...] = Field(default=REJECT_REASONS, max_length=5, strict=False)
    max_reason_length: int = Field(default=300, ge=10, le=1000)  # a typed reason
    list_entries: int = Field(default=10, ge=1, le=50)  # rows of /mysubmissions

    @model_validator(mode="after")
    def _known_and_distinct(self) -> SubmissionRules:
        keys = [c.key for c in self.categories]
        if len(set(keys)) != len(keys):
            raise ValueError("two categories share one key")
        unknown = set(self.reject_reasons) - set(REJECT_REASONS)
        if unknown:
            raise ValueError(
                f"unknown reject reasons {sorted(unknown)}: use {list(REJECT_REASONS)}"
            )
        return self

    def category(self, key: str) -> SubmissionCategory | None:
        """The category stored as `key`, if it is still configured."""
        return next((c for c in self.categories if c.key == key), None)
