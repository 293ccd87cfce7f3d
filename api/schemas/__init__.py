"""Request and response models, one module per resource (mappings/ for the mapping resources); their
class names are the OpenAPI document's component names."""
