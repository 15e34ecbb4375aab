"""Issue 5 speed tests: Tencent calls counted on the real emulator (GET /_emulator/counters) while the real
server lists, caches and invalidates. They count calls and connections; they never assert a duration."""
