# slabguard fast preset (build/libslabguard-fast.so): the same core, hardening off.
# Range and size-class checks that cost nothing stay on in every build.
SG_CONFIG_SECURE := false
SG_CONFIG_ENCODE_FREELIST := false
SG_CONFIG_EXACT_FREE_CHECKS := false
SG_CONFIG_RANDOM_SLOTS := false
SG_CONFIG_CANARY := false
SG_CONFIG_ZERO_ON_FREE := false
SG_CONFIG_WRITE_AFTER_FREE_CHECK := false
SG_CONFIG_WRITE_AFTER_FREE_WHOLE := false
SG_CONFIG_QUARANTINE_SLOTS := 0
SG_CONFIG_GUARD_PAGES := false
SG_CONFIG_LARGE_QUARANTINE := false
SG_CONFIG_CLASS_ISOLATION := false
