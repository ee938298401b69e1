"""Token buckets: a steady rate with bursts on top."""


class TokenBucket:
    def __init__(self, rate, burst, clock):
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self):
        """Spend one token; False when the bucket is empty."""
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def full(self):
        """Whether the bucket has refilled completely: nothing taken lately counts any more."""
        self._refill()
        return self._tokens >= self._burst

    def _refill(self):
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
