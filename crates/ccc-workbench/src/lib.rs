//! The Workbench facade of ccc-rs. Not yet built: see the ccc-workbench issue.
