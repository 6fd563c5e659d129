# mk/install.mk: `make install` and `make uninstall` (included by the top Makefile).
#   make install   [PREFIX=/usr/local] [DESTDIR=/tmp/stage] [LIBDIR=$(PREFIX)/lib] [MODE=...]
#   make uninstall (same variables): removes the files install puts there, nothing else
#
# For each variant MODE builds (secure: libslabguard, fast: libslabguard-fast), install puts in
#   LIBDIR               <lib>.so.$(VERSION), the soname link <lib>.so.$(SOVERSION) and the
#                        link-time link <lib>.so; the static archive <lib>.a
#   PKGCONFIGDIR         slabguard.pc / slabguard-fast.pc, made from slabguard.pc.in
# and once
#   INCLUDEDIR           slabguard.h
#   MANDIR/man1, man3    slabguard.1 (the launcher), slabguard.3 (the API) and one `.so` stub per
#                        sg_ function of the header, so that `man sg_malloc` finds the page
#   BINDIR               the launcher $(BUILD)/slabguard, when it has been built (mk/launcher.mk)
# PREFIX_ONLY=1 installs the prefix-only build (build/prefix-only/) under the same names, without
# the launcher (preloading a library that leaves malloc alone would do nothing).
# Directories are created as needed and never removed: they may hold other packages' files.
# Without DESTDIR, as root, ldconfig runs after both, so that the loader finds the new soname.

PREFIX       ?= /usr/local
EXEC_PREFIX  ?= $(PREFIX)
BINDIR       ?= $(EXEC_PREFIX)/bin
LIBDIR       ?= $(EXEC_PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
DATAROOTDIR  ?= $(PREFIX)/share
MANDIR       ?= $(DATAROOTDIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# The soname's number: the major of VERSION (0.1.0 -> libslabguard.so.0).
SOVERSION    ?= $(firstword $(subst ., ,$(VERSION)))
INSTALL      ?= install
LDCONFIG     ?= ldconfig

# Every variant install may put in place; uninstall removes them all, whatever MODE says.
INST_VARIANTS     := $(filter secure fast,$(VARIANTS))
INST_ALL_VARIANTS := secure fast
# The sg_ functions of the public header, each with a man3 stub (deferred: read only when used).
INST_SG_SED       := s/^SG_API.*[ *]\(sg_[a-z0-9_]*\)(.*/\1/p
INST_SG_FUNCS      = $(sort $(shell sed -n '$(INST_SG_SED)' include/slabguard.h))
INST_MAN_STUBS     = $(foreach f,$(INST_SG_FUNCS),$(DESTDIR)$(MANDIR)/man3/$(f).3)

# A path inside the .pc file: below ${prefix} it is written relative to it, so that
# `pkg-config --define-prefix` can move the whole tree (a staging DESTDIR, a relocated install).
inst_pc_path = $(if $(filter $(2),$(1)),$${$(3)},$(if $(filter $(2)/%,$(1)),$${$(3)}/$(patsubst $(2)/%,%,$(1)),$(1)))

# ---- one variant: install-<v>, uninstall-<v> ---------------------------------------------------
# $(1): variant, $(2): library name (libslabguard...), $(3): pkg-config name (slabguard...)
define INSTALL_VARIANT_RULES
.PHONY: install-$(1) uninstall-$(1)
install-$(1): $(BUILD)/$(2).so $(BUILD)/$(2).a install-dirs
	$$(INSTALL) -m 755 $(BUILD)/$(2).so $$(DESTDIR)$$(LIBDIR)/$(2).so.$$(VERSION)
	ln -sfn $(2).so.$$(VERSION) $$(DESTDIR)$$(LIBDIR)/$(2).so.$$(SOVERSION)
	ln -sfn $(2).so.$$(SOVERSION) $$(DESTDIR)$$(LIBDIR)/$(2).so
	$$(INSTALL) -m 644 $(BUILD)/$(2).a $$(DESTDIR)$$(LIBDIR)/$(2).a
	sed -e 's|@prefix@|$$(PREFIX)|' \
	    -e 's|@exec_prefix@|$$(call inst_pc_path,$$(EXEC_PREFIX),$$(PREFIX),prefix)|' \
	    -e 's|@libdir@|$$(call inst_pc_path,$$(LIBDIR),$$(EXEC_PREFIX),exec_prefix)|' \
	    -e 's|@includedir@|$$(call inst_pc_path,$$(INCLUDEDIR),$$(PREFIX),prefix)|' \
	    -e 's|@name@|$(3)|g' -e 's|@variant@|$(1)|g' -e 's|@version@|$$(VERSION)|' \
	    slabguard.pc.in >$$(DESTDIR)$$(PKGCONFIGDIR)/$(3).pc
	@chmod 644 $$(DESTDIR)$$(PKGCONFIGDIR)/$(3).pc
uninstall-$(1):
	rm -f $$(DESTDIR)$$(LIBDIR)/$(2).so.$$(VERSION) $$(DESTDIR)$$(LIBDIR)/$(2).so.$$(SOVERSION) \
	      $$(DESTDIR)$$(LIBDIR)/$(2).so $$(DESTDIR)$$(LIBDIR)/$(2).a $$(DESTDIR)$$(PKGCONFIGDIR)/$(3).pc
endef

$(foreach v,$(INST_ALL_VARIANTS),$(eval $(call INSTALL_VARIANT_RULES,$(v),$(call lib_name,$(v)),$(patsubst lib%,%,$(call lib_name,$(v))))))

# ---- the whole install ---------------------------------------------------------------------------
.PHONY: install uninstall install-dirs install-common uninstall-common
install: $(foreach v,$(INST_VARIANTS),install-$(v)) install-common
	@$(INST_LDCONFIG)

install-dirs:
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3

# `all` builds the launcher too (mk/launcher.mk adds it there). The man pages carry the version
# of this build in their title line.
install-common: install-dirs all
	$(INSTALL) -m 644 include/slabguard.h $(DESTDIR)$(INCLUDEDIR)/slabguard.h
	sed '/^\.TH /s/"slabguard [^"]*"/"slabguard $(VERSION)"/' man/slabguard.1 >$(DESTDIR)$(MANDIR)/man1/slabguard.1
	sed '/^\.TH /s/"slabguard [^"]*"/"slabguard $(VERSION)"/' man/slabguard.3 >$(DESTDIR)$(MANDIR)/man3/slabguard.3
	@chmod 644 $(DESTDIR)$(MANDIR)/man1/slabguard.1 $(DESTDIR)$(MANDIR)/man3/slabguard.3
	@for stub in $(INST_MAN_STUBS); do echo '.so man3/slabguard.3' >"$$stub" && chmod 644 "$$stub"; done
	@echo "  man3 stubs: $(INST_SG_FUNCS)"
	@if [ -f $(BUILD)/slabguard ] && [ "$(PREFIX_ONLY)" != 1 ]; then \
	    echo "$(INSTALL) -d $(DESTDIR)$(BINDIR) && $(INSTALL) -m 755 $(BUILD)/slabguard $(DESTDIR)$(BINDIR)/slabguard"; \
	    $(INSTALL) -d $(DESTDIR)$(BINDIR) && $(INSTALL) -m 755 $(BUILD)/slabguard $(DESTDIR)$(BINDIR)/slabguard; \
	else echo "  (no launcher installed: $(BUILD)/slabguard is not built, or PREFIX_ONLY=1)"; fi

uninstall: $(foreach v,$(INST_ALL_VARIANTS),uninstall-$(v)) uninstall-common
	@$(INST_LDCONFIG)

uninstall-common:
	rm -f $(DESTDIR)$(INCLUDEDIR)/slabguard.h $(DESTDIR)$(MANDIR)/man1/slabguard.1 \
	      $(DESTDIR)$(MANDIR)/man3/slabguard.3 $(DESTDIR)$(BINDIR)/slabguard
	@rm -f $(INST_MAN_STUBS)

# Refresh the loader's cache after a real install (a staged one, DESTDIR=..., is the packager's).
INST_LDCONFIG = if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v $(LDCONFIG) >/dev/null 2>&1; \
	then echo "$(LDCONFIG)"; $(LDCONFIG) || true; fi
