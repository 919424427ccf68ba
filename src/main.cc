#include "mailsec/app/exporter.h"

int main(int argc, char** argv) { return mailsec::app::Main(argc, argv); }
