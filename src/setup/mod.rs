//! `ttm setup`: plan (pure data) then apply (runs steps, logs, resumes).
