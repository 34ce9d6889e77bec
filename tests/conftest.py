"""Shared fixtures: the real media in ../shared/media (tests that need it skip when it is absent)."""
from pathlib import Path

import pytest

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
CORPORA = MEDIA.parent / "corpora"


def media_path(*parts) -> Path:
    path = MEDIA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real media not found at {path} (it lives in ../shared/media beside the checkout)")
    return path


def corpus_path(*parts) -> Path:
    """A file or folder of ../shared/corpora (training and measuring data), skipping the test when it is absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the corpus is not at {path} (it lives in ../shared/corpora beside the checkout)")
    return path


@pytest.fixture
def media():
    """media('video', 'fire_a.mp4') -> Path, skipping the test when ../shared/media is absent."""
    return media_path
