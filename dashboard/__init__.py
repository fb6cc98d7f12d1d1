"""The Plotly Dash app for comms teams."""
