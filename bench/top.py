"""Summarise py-spy folded stacks: where the bot's own time goes (``python bench/top.py FILE``)."""

from __future__ import annotations

import collections
import sys


def main(path: str, count: int = 40) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in open(path):
        stack, _, samples = line.rstrip().rpartition(" ")
        n = int(samples)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"{total} samples")
    print("-- own time")
    for frame, n in own.most_common(count):
        print(f"{n / total:6.1%}  {frame[:150]}")
    print("-- inclusive")
    for frame, n in inclusive.most_common(count):
        print(f"{n / total:6.1%}  {frame[:150]}")


if __name__ == "__main__":
    main(sys.argv[1])
