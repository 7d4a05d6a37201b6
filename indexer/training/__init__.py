"""`prodsearch train`: contrastive (CLIP) training of open_clip models on a shop's catalog."""
