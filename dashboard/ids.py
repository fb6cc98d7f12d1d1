"""Component ids of the dashboard, named once so layout, callbacks and tests agree."""

URL = "url"
LIVE = "live-refresh"
DATA_VERSION = "data-version"
TABS = "tabs"
LANDING = "landing"  # the view the page's layout was built for (dashboard.app.page_layout)
LANDING_CHECK = "landing-check"  # the address, when the layout was not built for it

# controls and header
BRAND = "brand-dropdown"
OUTAGE = "outage-dropdown"
PERIOD = "period-dropdown"
SOURCES = "sources-dropdown"
BUCKET = "bucket-radio"
DEMO_NOTE = "demo-note"
FRESHNESS = "freshness-line"
LIVE_NOTE = "live-note"
BRAND_NOTE = "brand-note"  # a link that named a brand this database does not hold
REPORT_BUTTON = "download-report-button"
REPORT_DOWNLOAD = "download-report"

# overview
HEADLINE = "headline"
CARDS = "metric-cards"
SPARSE_WARNING = "sparse-warning"
OVERVIEW_GRAPH = "overview-graph"
DETAIL_CARDS = "detail-cards"
DETAILS = "analyst-details"
INTERVALS = "interval-records"

# timeline
TIMELINE = "timeline-graph"
SERIES_DOWNLOAD_BUTTON = "download-series-button"
SERIES_DOWNLOAD = "download-series"

# voices
CLICKED = "clicked-bucket"
VOICES_WHOLE = "voices-whole-window"
VOICES_LABEL = "voices-label"
POSTS_SEARCH = "posts-search"
POSTS_CAPTION = "posts-caption"
POSTS_TABLE = "posts-table"
POSTS_DATA = "posts-data"
DOWNLOAD_BUTTON = "download-csv-button"
TERMS_TABLE = "terms-table"
TERMS_DOWNLOAD_BUTTON = "download-terms-button"
TERMS_DOWNLOAD = "download-terms"

# outages
OUTAGES_TABLE = "outages-table"
OUTAGES_DATA = "outages-data"
OUTAGES_DOWNLOAD_BUTTON = "download-outages-button"
OUTAGES_DOWNLOAD = "download-outages"
FORM_START = "outage-form-start"
FORM_END = "outage-form-end"
FORM_LABEL = "outage-form-label"
FORM_SEVERITY = "outage-form-severity"
FORM_TZ = "outage-form-timezone"
FORM_ADD = "outage-form-add"
FORM_SAVE = "outage-form-save"
FORM_REMOVE = "outage-form-remove"
REMOVE_BOX = "outage-remove-confirm"  # "Remove window 5 ...?" with yes / cancel
REMOVE_QUESTION = "outage-remove-question"
REMOVE_YES = "outage-remove-yes"
REMOVE_NO = "outage-remove-cancel"
FORM_CONFIRM = "outage-form-confirm"
FORM_DETECT = "outage-form-detect"
FORM_MESSAGE = "outage-form-message"

# compare
COMPARE_GRAPH = "compare-graph"
COMPARE_TABLE = "compare-table"
COMPARE_NOTE = "compare-note"  # the method's figures (difference in differences), in the details
COMPARE_SUMMARY = "compare-summary"  # what the comparison says, in plain words
COMPARE_SHARE_GRAPH = "compare-share-graph"
COMPARE_DETAILS = "compare-details"
COMPARE_DOWNLOAD_BUTTON = "download-compare-button"
COMPARE_DOWNLOAD = "download-compare"
EVENT_GRAPH = "event-study-graph"
