"""What one client can do to the server, each case of issue 11 as a test: loopback only, bounded in count
and time, asserting on refusals and on bounded sizes, never on timings."""
