"""One module per service. A module that defines ``SERVICE`` (a webapp.catalogue.Service) is a service;
modules whose names start with an underscore hold what the services share."""
