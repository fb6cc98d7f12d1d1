"""Pure analysis: sentiment scoring, outage windows, timelines, dip and recovery metrics, exports."""
