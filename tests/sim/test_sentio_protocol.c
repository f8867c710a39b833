/* sim: the SENTIO server speaks MPI's remote command protocol, over real
 * TCP: a table of exchanges (command line -> reply line) for every command
 * and error path: identification and version, '*' commands without
 * replies, every XY reference, positions, home, Z (contact, separation,
 * heights, error 23), the interlock (error 12, counted by the stage), map
 * stepping (serpentine route, LastSite, EndOfRoute, 11), and the
 * asynchronous initialization (30, 0, 19, 31, 32, 18 after an abort).
 * Map: 4 x 3 dies, pitch 1000 x 900, marks at (250, 220); so Home is
 * (250, 220), User (500, 450), Center (2000, 1350) in Zero, and Zero's
 * origin is Machine (150000, 150000). */
#include "sentio_fixture.h"

static const exchange chuck[] = {
    {"*RCS 1", NULL},
    {"*IDN?", "MPI Corporation,Sentio - Probe System Software Suite,0,24.0.0.0"},
    {"status:get_version", "0,0,Version: 24.0.0*"},
    {"status:get_machine_status", "0,0,Ready,AtSeparation,ChuckZ=9700.000,ContactHeightSet"},
    {"get_chuck_xy", "0,0,0.000,0.000"},
    {"move_chuck_xy Z, 1000.0, 2000.0", "0,0,1000.000,2000.000"},
    {"get_chuck_xy Wafer, M", "0,0,151000.000,152000.000"},
    {"get_chuck_xy Wafer, H", "0,0,750.000,1780.000"},
    {"get_chuck_xy Wafer, C", "0,0,-1000.000,650.000"},
    {"get_chuck_xy Wafer, U", "0,0,500.000,1550.000"},
    {"get_chuck_xy Wafer, R", "0,0,1000.000,2000.000"},
    {"get_chuck_xy Wafer, Zero", "0,0,1000.000,2000.000"},
    {"get_chuck_xy wafer, machine", "0,0,151000.000,152000.000"},
    {"get_chuck_xy Home", "0,0,750.000,1780.000"},
    {"move_chuck_xy M, 150100, 150200", "0,0,150100.000,150200.000"},
    {"get_chuck_xy", "0,0,100.000,200.000"},
    {"move_chuck_xy H, 10, 20", "0,0,10.000,20.000"},
    {"get_chuck_xy", "0,0,260.000,240.000"},
    {"move_chuck_xy C, -5, 5", "0,0,-5.000,5.000"},
    {"get_chuck_xy", "0,0,1995.000,1355.000"},
    {"move_chuck_xy U, 1, 2", "0,0,1.000,2.000"},
    {"get_chuck_xy", "0,0,501.000,452.000"},
    {"move_chuck_xy R, 10.5, -20", "0,0,511.500,432.000"},
    {"move_chuck_xy Relative, -11.5, 18", "0,0,500.000,450.000"},
    {"move_chuck_xy current, 0, 0", "0,0,500.000,450.000"},
    {"MOVE_CHUCK_XY machine,150000,150000", "0,0,150000.000,150000.000"},
    {"move_chuck_xy home , 0 , 0\r", "0,0,0.000,0.000"},
    {"get_chuck_xy", "0,0,250.000,220.000"},
    {"move_chuck_xy Center, 0, 0", "0,0,0.000,0.000"},
    {"move_chuck_xy User, 0, 0", "0,0,0.000,0.000"},
    {"get_chuck_xy", "0,0,500.000,450.000"},
    {"move_chuck_xy Zero, 300, 400", "0,0,300.000,400.000"},
    {"move_chuck_home", "0,0,250.000,220.000"},
    {"get_chuck_z Z", "0,0,9700.000"},
    {"get_chuck_z Zero", "0,0,9700.000"},
    {"get_chuck_z S", "0,0,0.000"},
    {"get_chuck_z C", "0,0,-300.000"},
    {"get_chuck_z R", "0,0,0.000"},
    {"get_chuck_z H", "13,0,*"},
    {"get_chuck_z Q", "6,0,*"},
    {"get_chuck_z Z, 1", "7,0,*"},
    {"move_chuck_contact", "0,0,10000.000"},
    {"status:get_machine_status", "0,0,Ready,AtContact,ChuckZ=10000.000,ContactHeightSet"},
    {"get_chuck_z C", "0,0,0.000"},
    {"move_chuck_xy Z, 0, 0", "12,0,*contact*"}, /* the interlock (counted) */
    {"move_chuck_home", "12,0,*contact*"},
    {"map:step_first_die", "12,0,*contact*"},
    {"move_chuck_separation", "0,0,9700.000"},
    {"get_chuck_xy", "0,0,250.000,220.000"}, /* refused moves left the chuck */
    {"get_chuck_site_heights Wafer", "0,0,10000.000,300.000,0.000,0.000"},
    {"get_chuck_site_status Wafer", "0,0,1,1,0,1"},
    {"clear_contact", "0,0,OK"},
    {"move_chuck_contact", "23,0,*"},
    {"get_chuck_z C", "23,0,*"},
    {"get_chuck_site_heights Wafer", "23,0,*"},
    {"get_chuck_site_status Wafer", "0,0,1,0,0,1"},
    {"status:get_machine_status", "0,0,Ready,AtSeparation,ChuckZ=9700.000,ContactHeightNotSet"},
    {"set_chuck_site_heights Wafer, 9000, 300, 0, 0", "8,0,*"},
    {"set_chuck_site_heights Wafer, 10000, x, 0, 0", "6,0,*"},
    {"set_chuck_site_heights Wafer, 10000, 300", "7,0,*"},
    {"set_chuck_site_heights Wafer, 10000, 300, 20, 5", "0,0,OK"},
    {"clear_contact AuxLeft", "13,0,*"},
    {"move_chuck_contact", "0,0,10000.000"},
    {"move_chuck_separation", "0,0,9700.000"},
    {"*LOCAL", NULL},
    {"*RCS 1", NULL},
    {"*RST", NULL},
    {"get_chuck_xy", "0,0,250.000,220.000"},
};

static const exchange errors[] = {
    {"move_chuck_xy Z, 1e9, 0", "8,0,*"},
    {"move_chuck_xy R, 0, -1e7", "8,0,*"},
    {"move_chuck_xy M, 0, 0", "0,0,0.000,0.000"}, /* the travel's corner */
    {"move_chuck_xy M, -1, 0", "8,0,*"},
    {"move_chuck_xy Sideways, 1, 2", "6,0,*"},
    {"move_chuck_xy Z, x, 2", "6,0,*"},
    {"move_chuck_xy Z, nan, 2", "6,0,*"},
    {"move_chuck_xy Z, 0x10, 2", "6,0,*"},
    {"move_chuck_xy Zero, 1", "7,0,*"},
    {"move_chuck_xy", "7,0,*"},
    {"move_chuck_xy Z, 1, 2, 3", "7,0,*"},
    {"move_chuck_xy Z, 1, 2, 3, 4, 5, 6, 7, 8, 9", "7,0,*"},
    {"get_chuck_xy AuxLeft, Z", "13,0,*"},
    {"get_chuck_xy Moon, Z", "6,0,*"},
    {"get_chuck_xy Wafer, Q", "6,0,*"},
    {"get_chuck_xy Wafer, Z, 1", "7,0,*"},
    {"get_chuck_site_status Moon", "6,0,*"},
    {"move_chuck_contact 5", "7,0,*"},
    {"move_chuck_separation 5", "7,0,*"},
    {"move_chuck_home 1", "7,0,*"},
    {"status:get_version 1", "7,0,*"},
    {"no_such_command 1", "3,0,*no_such_command*"},
    {"move_chuck_z C, 0", "3,0,*"},
    {"map:no_such", "3,0,*"},
    {"*FOO?", "3,0,*"},
    {"query_command_status 99", "32,99,*"},
    {"query_command_status x", "6,0,*"},
    {"query_command_status", "7,0,*"},
    {"wait_complete 99, 1", "32,99,*"},
    {"wait_complete 1, x", "6,0,*"},
    {"wait_complete 1, -1", "8,0,*"},
    {"wait_complete 1", "7,0,*"},
    {"abort_command 99", "32,99,*"},
    {"abort_command", "7,0,*"},
    {"start_initialization 1", "7,0,*"},
    {"get_chuck_xy", "0,0,-150000.000,-150000.000"},
};

/* Route of the 4 x 3 map: row by row, serpentine. */
static const exchange map[] = {
    {"map:die:get_current_index", "12,0,No die active"},
    {"map:step_die 1, 2", "2048,0,1,2,0"},
    {"get_chuck_xy", "0,0,1250.000,2020.000"},
    {"map:die:get_current_index", "0,0,9,1,2"},
    {"map:step_die 4, 0", "8,0,*"},
    {"map:step_die 0, 3", "8,0,*"},
    {"map:step_die -1, 0", "8,0,*"},
    {"map:step_die a, 0", "6,0,*"},
    {"map:step_die 1", "7,0,*"},
    {"map:step_die 1, 1, 1", "8,0,*"},
    {"map:step_die 1, 1, 0", "2048,0,1,1,0"},
    {"map:step_first_die 1", "8,0,*"},
    {"map:step_first_die x", "6,0,*"},
    {"map:step_first_die", "2048,0,0,0,0"},
    {"get_chuck_xy", "0,0,250.000,220.000"},
    {"map:step_next_die", "2048,0,1,0,0"},
    {"map:step_next_die", "2048,0,2,0,0"},
    {"map:step_next_die", "2048,0,3,0,0"},
    {"map:step_next_die", "2048,0,3,1,0"},
    {"get_chuck_xy", "0,0,3250.000,1120.000"},
    {"map:die:get_current_index", "0,0,4,3,1"},
    {"map:step_next_die", "2048,0,2,1,0"},
    {"map:step_next_die", "2048,0,1,1,0"},
    {"map:step_next_die", "2048,0,0,1,0"},
    {"map:step_next_die", "2048,0,0,2,0"},
    {"map:step_next_die", "2048,0,1,2,0"},
    {"map:step_next_die 0", "2048,0,2,2,0"},
    {"map:step_next_die", "3072,0,3,2,0"}, /* EndOfRoute | LastSite */
    {"map:step_next_die", "1035,0,*"},     /* 11 | EndOfRoute */
    {"map:die:get_current_index", "0,0,11,3,2"},
    {"get_chuck_xy", "0,0,3250.000,2020.000"},
    {"map:step_first_die", "2048,0,0,0,0"},
    {"move_chuck_contact", "0,0,10000.000"},
    {"map:step_next_die", "12,0,*contact*"},
    {"map:die:get_current_index", "0,0,0,0,0"},
    {"move_chuck_separation", "0,0,9700.000"},
    {"map:step_next_die", "2048,0,1,0,0"},
};

static void chuck_commands_and_references(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  RUN_EXCHANGES(fd, chuck);
  assert_int_equal(pv_sim_stage_xy_in_contact(f.stage), 3);
  close(fd);
  stop(&f);
}

static void error_codes(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  RUN_EXCHANGES(fd, errors);
  close(fd);
  stop(&f);
}

static void map_stepping(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  RUN_EXCHANGES(fd, map);
  assert_int_equal(pv_sim_stage_xy_in_contact(f.stage), 1);
  close(fd);
  stop(&f);
}

/* Initialization takes 400 ms: pending, a short wait times out, a long one
 * completes; a second one is aborted (31) and leaves no home (18) until the
 * next initialization. */
static const exchange async[] = {
    {"start_initialization", "0,1,*"},
    {"query_command_status 1", "30,1,*"},
    {"status:get_machine_status", "0,0,Initializing,*"},
    {"start_initialization", "12,0,*"},
    {"move_chuck_xy Z, 10, 10", "12,0,*initializ*"},
    {"move_chuck_home", "12,0,*initializ*"},
    {"move_chuck_contact", "12,0,*initializ*"},
    {"map:step_first_die", "12,0,*initializ*"},
    {"wait_complete 1, 0.05", "19,1,*"},
    {"wait_complete 1, 10", "0,1,OK"},
    {"query_command_status 1", "0,1,OK"},
    {"abort_command 1", "12,1,*"},
    {"status:get_machine_status", "0,0,Ready,AtSeparation,*"},
    {"get_chuck_xy", "0,0,250.000,220.000"}, /* initialization ends at home */
    {"start_initialization", "0,2,*"},
    {"abort_command 2", "0,2,*"},
    {"query_command_status 2", "31,2,*"},
    {"wait_complete 2, 1", "31,2,*"},
    {"status:get_machine_status", "0,0,NotInitialized,*"},
    {"move_chuck_home", "18,0,*"},
    {"move_chuck_xy H, 0, 0", "18,0,*"},
    {"get_chuck_xy Wafer, H", "18,0,*"},
    {"move_chuck_xy Z, 0, 0", "12,0,*"},
    {"get_chuck_site_status Wafer", "0,0,0,1,0,1"},
    {"start_initialization", "0,3,*"},
    {"wait_complete 3, 10", "0,3,OK"},
    {"move_chuck_home", "0,0,250.000,220.000"},
    {"query_command_status 1", "0,1,OK"},
};

static void async_initialization(void **state) {
  (void)state;
  fixture f;
  pv_sentio_server_params p;
  fixture_params(&p);
  p.init_ms = 400;
  start_params(&f, &p);
  int fd = dial(f.port);
  RUN_EXCHANGES(fd, async);
  close(fd);
  stop(&f);
}

/* A station that starts without initialization and without a contact
 * height. */
static void uninitialized_start(void **state) {
  (void)state;
  fixture f;
  pv_sentio_server_params p;
  fixture_params(&p);
  p.uninitialized = 1;
  p.no_contact_height = 1;
  p.init_ms = 0;
  start_params(&f, &p);
  int fd = dial(f.port);
  static const exchange x[] = {
      {"status:get_machine_status", "0,0,NotInitialized,AtSeparation,*,ContactHeightNotSet"},
      {"move_chuck_home", "18,0,*"},
      {"move_chuck_contact", "23,0,*"},
      {"start_initialization", "0,1,*"},
      {"wait_complete 1, 5", "0,1,OK"},
      {"move_chuck_contact", "23,0,*"},
      {"move_chuck_home", "0,0,250.000,220.000"},
  };
  RUN_EXCHANGES(fd, x);
  close(fd);
  stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chuck_commands_and_references),
      cmocka_unit_test(error_codes),
      cmocka_unit_test(map_stepping),
      cmocka_unit_test(async_initialization),
      cmocka_unit_test(uninitialized_start),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
