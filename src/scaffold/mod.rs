//! `ttm scaffold`: variables, render in memory, then one all-or-nothing writer.
