/* version.h: the one place the plexpipe version lives. */
#ifndef PLEXPIPE_VERSION_H
#define PLEXPIPE_VERSION_H

#define PLEXPIPE_VERSION	"0.1.0"

#endif
