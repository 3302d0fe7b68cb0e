// Not built yet: this package is a placeholder that later issues fill (see README.md).
export const PACKAGE_STATUS = 'planned' as const;
