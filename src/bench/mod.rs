//! `ttm bench`: statistics, the results table, saved results, compare and the chart.
