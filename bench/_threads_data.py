"""Realistic thread content for the threads benchmarks: Markdown posts from a fixed vocabulary,
seeded, so every run writes the same text (sealing and rendering stay real)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flask import Flask

from forum.extensions import db
from forum.markup import tlp
from forum.members import services as member_services
from forum.members.models import Member
from forum.members.passwords import hash_password
from forum.threads import services

WORDS = (
    "victims families support hotline trauma psychosocial coordination reunification centre "
    "police hospital identification interpreters consular embassy volunteers debrief lessons "
    "learned practice network protocol outreach counselling memorial anniversary media "
    "information registration helpline shelter assistance compensation legal funding training "
    "resilience survivors witnesses children schools community mayor ministry prosecutor "
    "hearing trial testimony evaluation checklist timeline staffing shifts burnout supervision"
).split()
RARE = [f"rareterm{n}" for n in range(2000)]
POOL = 3000


def body(rng: random.Random, words: int = 70) -> str:
    """One Markdown post of about `words` words, with a list and emphasis like real posts."""
    picked = [rng.choice(WORDS) for _ in range(words)]
    picked[rng.randrange(words)] = rng.choice(RARE)
    half = words // 2
    first = " ".join(picked[:half]).capitalize()
    items = "\n".join(f"- **{picked[half + i]}** {picked[half + i + 1]}" for i in range(0, 8, 2))
    rest = " ".join(picked[half + 8 :])
    return f"{first}.\n\n{items}\n\n{rest}."


def bodies(count: int, seed: int = 7) -> list[str]:
    """`count` seeded posts."""
    rng = random.Random(seed)
    return [body(rng) for _ in range(count)]


def make_members(count: int, *, coordinator: bool = False) -> Sequence[Member]:
    """`count` members of one organisation (the first a coordinator if asked)."""
    password_hash = hash_password("a long bench password 2026")
    organisation = member_services.get_or_create_organisation("Bench NGO", "BE", "ngo")
    return [
        member_services.create_member(
            email=f"threads-bench{n}@example.org",
            name=f"Bench Member {n}",
            password_hash=password_hash,
            organisation=organisation,
            country="BE",
            timezone="Europe/Brussels",
            role="coordinator" if coordinator and n == 0 else "member",
        )
        for n in range(count)
    ]


def build_corpus(app: Flask, total: int, *, seed: int = 11) -> dict[str, object]:
    """Threads holding `total` posts: half in one long thread, the rest over many threads of
    about 250 posts (or 25 for small corpora). Written through services.bulk_add_posts."""
    rng = random.Random(seed)
    with app.app_context():
        people = make_members(8, coordinator=True)
        categories = services.ensure_default_categories()
        per_thread = 250 if total >= 10_000 else 25
        big = total // 2
        plan = [big] + [per_thread] * ((total - big) // per_thread)
        plan[-1] += total - sum(plan)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        # Posts are drawn from a pool of distinct texts, so each renders once per batch.
        pool = [body(rng) for _ in range(POOL)]
        rendered: dict[str, str] = {}
        big_thread_id = ""
        for index, count in enumerate(plan):
            label = tlp.RED if index % 10 == 9 else rng.choice([tlp.AMBER, tlp.GREEN, tlp.CLEAR])
            thread = services.start_thread(
                author=people[index % len(people)],
                category=categories[index % len(categories)],
                title=f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.choice(RARE)}",
                body=body(rng),
                label=label,
                participants=people[1:3],
                tags=[rng.choice(WORDS), rng.choice(WORDS)],
            )
            done = 1
            while done < count:
                batch = [rng.choice(pool) for _ in range(min(2000, count - done))]
                services.bulk_add_posts(
                    thread,
                    people,
                    batch,
                    start_at=start + timedelta(minutes=index * 600 + done),
                    render_cache=rendered,
                )
                done += len(batch)
                db.session.commit()
            db.session.commit()
            if index == 0:
                big_thread_id = thread.id
        member_id = people[3].id
        db.session.commit()
    return {"big_thread_id": big_thread_id, "member_id": member_id, "threads": len(plan)}


def thread_with_posts(people: Sequence[Member], texts: Sequence[str]) -> str:
    """The page benches' thread: AMBER, texts[0] opening it and the rest as replies by `people`
    in turn, in the first default category. Committed; returns its id."""
    thread = services.start_thread(
        author=people[0],
        category=services.ensure_default_categories()[0],
        title="Hotline staffing after the attack",
        body=texts[0],
        label=tlp.AMBER,
    )
    services.bulk_add_posts(thread, people, texts[1:], start_at=datetime(2026, 1, 1, tzinfo=UTC))
    db.session.commit()
    return str(thread.id)
