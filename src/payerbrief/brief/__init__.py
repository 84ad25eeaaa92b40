"""The brief: one code's publication, its document model, templates and checker."""
