"""Export room: subtitle and data files written from word timings."""
