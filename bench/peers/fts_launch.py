"""Starts FreeTAKServer (in its venv) with its data-package services bound to 127.0.0.1."""

import runpy
import sys

from FreeTAKServer.core.configuration import DataPackageServerConstants as constants

# FreeTAKServer 2.2.1 binds its HTTP and HTTPS data-package services to a hard-coded 0.0.0.0
# (DataPackageServerConstants.IP), whatever -DataPackageIP says; the bench is loopback only.
_init = constants.DataPackageServerConstants.__init__


def _loopback_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.IP = "127.0.0.1"


constants.DataPackageServerConstants.__init__ = _loopback_init
sys.argv[0] = "FreeTAKServer.controllers.services.FTS"
runpy.run_module("FreeTAKServer.controllers.services.FTS", run_name="__main__", alter_sys=True)
