"""One module per scenario of issue 5 point 1: (a) overhead, (b) listing, (c) paging, (d) batch.
Each exposes `run(ctx) -> list[Section]`."""
